"""Numbered steps that say what they do, keep the details in a log file, and fail with step, cause and fix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path


class InstallError(Exception):
    """A step failed: ``step`` names it, ``cause`` says why, ``fix`` what to do."""

    def __init__(self, step: str, cause: str, fix: str) -> None:
        super().__init__(f"{step}: {cause}")
        self.step, self.cause, self.fix = step, cause, fix


#: Known pip/venv failures: a pattern in the output -> (cause, fix).
_KNOWN_CAUSES = [
    (r"No space left on device", "The disk is full.",
     "Free at least 4 GB on the disk of the install folder, or choose another folder with --prefix."),
    (r"(Temporary failure in name resolution|Failed to establish a new connection|Network is unreachable|"
     r"ProxyError|Read timed out|ConnectTimeoutError)",
     "The package index could not be reached (no internet, or a proxy blocks it).",
     "Check the internet connection (or set HTTPS_PROXY). For a computer without internet, run "
     "'install.sh --download-only DIR' on a connected computer, copy DIR over, and run 'install.sh --from DIR'."),
    (r"No matching distribution found for ([^\s]+)",
     "No installable file for {0} (offline folder incomplete, or no build for this system and Python).",
     "With --from DIR: collect DIR again with --download-only for this computer's system and Python version. "
     "Online: check that this Python version is 3.10-3.12."),
    (r"ensurepip is not available|No module named venv|No module named ensurepip",
     "This Python cannot create virtual environments (the 'venv' module is missing).",
     "Debian/Ubuntu: ask your administrator to run 'sudo apt install python3-venv' (or python3.X-venv for "
     "your version), or choose another Python with --python."),
    (r"Permission denied", "A file or folder could not be written (permission denied).",
     "Choose a folder you own with --prefix (no administrator rights are needed)."),
]


def diagnose(output: str, default_fix: str) -> tuple[str, str]:
    """The cause and fix for a failed command from its output (the last ``ERROR:`` line when nothing is known).

    A Cellwright command's own ``fix:`` line (printed under its error) is kept instead of ``default_fix``.
    """
    for pattern, cause, fix in _KNOWN_CAUSES:
        found = re.search(pattern, output)
        if found:
            return cause.format(*found.groups()), fix
    errors = [line.strip() for line in output.splitlines() if line.strip().startswith(("ERROR", "error"))]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    cause = errors[-1] if errors else (lines[-1] if lines else "it printed nothing")
    fixes = [line[len("fix:"):].strip() for line in lines if line.startswith("fix:")]
    return cause, fixes[-1] if fixes else default_fix


class Steps:
    """Prints numbered steps to the terminal and writes everything (commands, their output) to ``log_path``."""

    def __init__(self, total: int, log_path: Path | None = None, stream=None) -> None:
        self.total, self.number, self.title = total, 0, ""
        self.stream = stream or sys.stdout
        self.log_path: Path | None = None
        self._log = None
        self._buffer: list[str] = []
        if log_path is not None:
            self.open_log(log_path)

    def open_log(self, path: Path) -> None:
        """Start writing the log file (what was logged before is written first)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the whole install
        self.log_path = path
        self._log.write("".join(self._buffer))
        self._buffer.clear()

    def log(self, text: str) -> None:
        """Write ``text`` to the log only."""
        text = text if text.endswith("\n") else text + "\n"
        if self._log is None:
            self._buffer.append(text)
        else:
            self._log.write(text)
            self._log.flush()

    def say(self, text: str) -> None:
        """Print ``text`` and log it."""
        print(text, file=self.stream, flush=True)
        self.log(text)

    def start(self, title: str) -> None:
        """Begin the next numbered step."""
        self.number += 1
        self.title = title
        self.say(f"[{self.number}/{self.total}] {title}")
        self.log(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}")

    def fail(self, cause: str, fix: str) -> InstallError:
        """The error for the current step (raise it)."""
        return InstallError(f"step {self.number}/{self.total} '{self.title}'", cause, fix)

    def run(self, cmd: list[str], fix: str, *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
        """Run ``cmd`` with its output in the log; raise :class:`InstallError` with a diagnosis when it fails."""
        self.log("$ " + " ".join(str(part) for part in cmd))
        try:
            done = subprocess.run([str(part) for part in cmd], capture_output=True, text=True, env=env or clean_env(),
                                  cwd=cwd, check=False)
        except OSError as error:
            raise self.fail(f"{cmd[0]} could not be started: {error.strerror or error}.", fix) from error
        output = done.stdout + done.stderr
        self.log(output)
        if done.returncode != 0:
            cause, better_fix = diagnose(output, fix)
            raise self.fail(f"{Path(str(cmd[0])).name} exited with code {done.returncode}: {cause}", better_fix)
        return done.stdout

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the new installation's programs: no PYTHONPATH/PYTHONHOME from the caller's setup."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.update(extra or {})
    return env

"""Worker processes for long jobs (train, predict, export, check) and their JSON-lines events.

The GUI never runs TensorFlow itself. It starts ``cellwright ... --events`` in another process:

* :func:`start_detached` for training: the process outlives the window; its output goes to a log
  file that :class:`EventTail` follows (also after the window is reopened, see :func:`load_job`).
* :class:`WorkerProcess` for shorter jobs tied to the window (export, check): events come from stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from builder.events import parse_event_line
from gui.worker_messages import LogCleaner, OutputLines


def cellwright_argv(*args: str) -> list[str]:
    """Command line that runs ``cellwright ARGS`` with the Python of this GUI."""
    return [sys.executable, "-m", "builder.cli.main", *args]


class EventTail(QObject):
    """Follow a growing JSON-lines file; emits each event, and each non-event line as log text."""

    event = Signal(dict)
    line = Signal(str)

    def __init__(self, path: str | os.PathLike[str], interval_ms: int = 200, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._offset = 0
        self._partial = b""
        self.cleaner = LogCleaner(self.path)
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.poll)

    def start(self, from_start: bool = True) -> None:
        if not from_start and self.path.exists():
            self._offset = self.path.stat().st_size
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()
        self.poll()

    def poll(self) -> int:
        """Read what was appended since the last call; returns the number of complete lines read."""
        try:
            with self.path.open("rb") as stream:
                stream.seek(self._offset)
                chunk = stream.read()
        except OSError:
            return 0
        if not chunk:
            return 0
        self._offset += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            parsed = parse_event_line(text)
            if parsed is not None:
                self.event.emit(parsed)
            elif (shown := self.cleaner.feed(text)) is not None:
                self.line.emit(shown)
        return len(lines)


def exit_file(log_path: str | os.PathLike[str]) -> Path:
    """Where :mod:`gui.job_runner` records the exit code of the job that writes ``log_path``."""
    return Path(str(log_path) + ".exit")


def read_exit_code(log_path: str | os.PathLike[str]) -> int | None:
    """Exit code of the finished job that wrote ``log_path`` (``None`` while it runs or when unknown)."""
    try:
        return int(json.loads(exit_file(log_path).read_text(encoding="utf-8"))["code"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def start_detached(argv: list[str], log_path: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None
                   ) -> int:
    """Start ``argv`` as a process that keeps running when the GUI closes; output goes to ``log_path``.

    The process gets its own session (process group on Windows), so closing the window or its terminal
    does not stop it. It runs under :mod:`gui.job_runner`, which writes its exit code next to the log
    (see :func:`read_exit_code`). Returns the process id; raises ``OSError`` when it cannot be started.
    """
    import subprocess

    log = Path(log_path)
    log.parent.mkdir(parents=True, exist_ok=True)
    exit_file(log).unlink(missing_ok=True)
    options: dict[str, Any] = {}
    if os.name == "nt":  # pragma: no cover - Windows only
        options["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    wrapped = [sys.executable, "-m", "gui.job_runner", str(exit_file(log)), "--", *argv]
    with log.open("ab") as stream:
        process = subprocess.Popen(wrapped, stdout=stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=str(cwd) if cwd else None, env=env, **options)
    _CHILDREN[process.pid] = process  # polled by is_running() so a finished child does not linger
    return int(process.pid)


_CHILDREN: dict[int, Any] = {}


def is_running(pid: int | None) -> bool:
    """``True`` while the process ``pid`` exists and has not finished."""
    if not pid:
        return False
    if pid in _CHILDREN:
        return _CHILDREN[pid].poll() is None
    import psutil

    try:
        process = psutil.Process(pid)
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop_process(pid: int, timeout_s: float = 5.0) -> bool:
    """Ask process ``pid`` (and its children) to stop; kill it after ``timeout_s``. Returns ``True`` when gone."""
    import psutil

    try:
        process = psutil.Process(pid)
    except psutil.Error:
        return True
    family = [*process.children(recursive=True), process]
    for member in family:
        with contextlib.suppress(psutil.Error):
            member.terminate()
    _gone, alive = psutil.wait_procs(family, timeout=timeout_s)
    for member in alive:
        with contextlib.suppress(psutil.Error):
            member.kill()
    return True


def job_file(project_dir: str | os.PathLike[str]) -> Path:
    """Where the GUI remembers the training it started for the recipes in ``project_dir``."""
    return Path(project_dir) / "runs" / ".gui-job.json"


def save_job(project_dir: str | os.PathLike[str], job: dict[str, Any]) -> None:
    path = job_file(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(job, indent=1), encoding="utf-8")


def load_job(project_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The last training job started from ``project_dir`` (``None`` when there is none)."""
    try:
        return json.loads(job_file(project_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class WorkerProcess(QObject):
    """A ``cellwright ...`` job tied to the window (export, predict, previews).

    Events on stdout become ``event`` signals; other stdout text is kept in :attr:`stdout_text` (``--json``
    results); stderr lines become ``line`` signals with tracebacks folded away. ``finished`` gives the exit
    code (-1 when the program could not start); :attr:`errors` holds the ``error`` events seen.
    """

    event = Signal(dict)
    line = Signal(str)
    finished = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._done)
        self.process.errorOccurred.connect(self._error)
        self._output = OutputLines()
        self.stdout_text = ""
        self.stderr_text = ""
        self.errors: list[dict[str, Any]] = []
        self.cleaner = LogCleaner()

    def start(self, argv: list[str], cwd: str | os.PathLike[str] | None = None) -> None:
        self._output = OutputLines()
        self.stdout_text, self.stderr_text, self.errors = "", "", []
        self.cleaner = LogCleaner()
        if cwd:
            self.process.setWorkingDirectory(str(cwd))
        self.process.start(argv[0], argv[1:])

    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def stop(self) -> None:
        if self.running():
            self.process.terminate()
            if not self.process.waitForFinished(3000):
                self.process.kill()

    def json_result(self) -> Any:
        """The JSON document the command printed with ``--json`` (``None`` when there is none)."""
        text = self.stdout_text.strip()
        start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
        if start < 0:
            return None
        try:
            return json.loads(text[start:])
        except ValueError:
            return None

    def save_log(self, path: str | os.PathLike[str]) -> Path:
        """Write everything the job printed (stdout, then stderr, tracebacks included) to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.stdout_text + self.stderr_text, encoding="utf-8")
        return path

    def _read_stdout(self, final: bool = False) -> None:
        for text in self._output.feed("out", bytes(self.process.readAllStandardOutput()), final):
            parsed = parse_event_line(text)
            if parsed is None:
                self.stdout_text += text + "\n"
                continue
            if parsed.get("event") == "error":
                self.errors.append(parsed)
            self.event.emit(parsed)

    def _read_stderr(self, final: bool = False) -> None:
        for text in self._output.feed("err", bytes(self.process.readAllStandardError()), final):
            self.stderr_text += text + "\n"
            if (shown := self.cleaner.feed(text)) is not None:
                self.line.emit(shown)

    def _done(self, code: int, status) -> None:
        self._read_stdout(final=True)
        self._read_stderr(final=True)
        crashed = status == QProcess.ExitStatus.CrashExit
        self.finished.emit(int(code) if not crashed or code else -1)

    def _error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.line.emit(f"Could not start the worker: {self.process.errorString()}")
            self.finished.emit(-1)

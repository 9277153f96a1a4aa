"""Plain messages about worker jobs: error events with their fix, crashes, and log text without tracebacks.

A biologist never sees a Python traceback in the app: :class:`LogCleaner` folds each traceback into one
line that points at the log file, and :func:`failure_text` turns how a job ended into a sentence.
No Qt and no TensorFlow here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: TensorFlow / absl start-up chatter (oneDNN, CPU instructions, CUDA probing): kept in the log file,
#: hidden in the app's log pane.
_TF_NOISE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"  # absl: I0000 00:00:1718 12345 file.cc:12]
    r"|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] \S+\.cc:\d+\]"  # TF C++: 2026-01-01 10:00:00.1: I tf/x.cc:1]
    r"|oneDNN custom operations are on|TF_ENABLE_ONEDNN_OPTS"
    r"|^WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|^To enable the following instructions: .* rebuild TensorFlow"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
    r"|Could not find cuda drivers on your machine|TF-TRT Warning"
)

UNEXPECTED = "Cellwright stopped unexpectedly"


def error_text(event: dict[str, Any]) -> str:
    """``what`` of an ``error`` event, where it happened and the fix, as plain text (no traceback)."""
    what = str(event.get("what") or event.get("message") or "An error occurred.").strip()
    where = str(event.get("where") or "").strip()
    lines = [f"{where}: {what}" if where and where not in what else what]
    if event.get("fix"):
        lines.append(f"Fix: {str(event['fix']).strip()}")
    return "\n".join(lines)


def failure_text(code: int | None, errors: list[dict[str, Any]], log_path: str | Path | None = None) -> str:
    """How a job that did not succeed ended: its last error event, or the 'stopped unexpectedly' sentence."""
    if errors:
        return error_text(errors[-1])
    where = f" The details are in the log file:\n{log_path}" if log_path else ""
    status = f" (exit code {code})" if code not in (None, 0) else ""
    return f"{UNEXPECTED}{status}.{where}"


class LogCleaner:
    """Feed worker output lines; returns the text to show (``None`` hides the line).

    A traceback (``Traceback (most recent call last):`` up to its exception line) is replaced by one line
    naming the log file where the technical details stay. TensorFlow's start-up chatter (oneDNN, absl, CPU
    instruction and CUDA notes) is hidden; it stays in the log file.
    """

    def __init__(self, log_path: str | Path | None = None) -> None:
        self.log_path = log_path
        self._in_traceback = False
        self._noted = False

    def feed(self, line: str) -> str | None:
        stripped = line.rstrip()
        if stripped.startswith("Traceback (most recent call last)"):
            self._in_traceback = True
            if self._noted:
                return None
            self._noted = True
            where = f" are in the log file {self.log_path}" if self.log_path else " are in the log file"
            return f"(An internal error happened; the technical details{where}.)"
        if self._in_traceback:
            if not stripped or stripped[0].isspace():
                return None
            self._in_traceback = False  # the exception line itself closes the traceback
            return None
        if stripped.startswith(("During handling of the above", "The above exception was")):
            return None
        if _TF_NOISE.search(stripped):
            return None
        if "with the text above" in stripped:
            target = f"the log file {self.log_path}" if self.log_path else "the log file"
            return stripped.replace("the text above", target)
        return stripped if stripped else None


class OutputLines:
    """A worker's stdout and stderr cut into whole text lines as bytes arrive in pieces.

    Examples
    --------
    >>> lines = OutputLines()
    >>> lines.feed("out", b'{"event": "ep'), lines.feed("out", b'och"}\\nhalf'), lines.feed("out", b"", final=True)
    ([], ['{"event": "epoch"}'], ['half'])
    """

    def __init__(self) -> None:
        self._partial = {"out": b"", "err": b""}

    def feed(self, channel: str, data: bytes, final: bool = False) -> list[str]:
        """The whole lines that ``data`` completes on ``channel`` (``out`` or ``err``); ``final``: also the rest."""
        data = self._partial[channel] + data
        *lines, self._partial[channel] = data.split(b"\n")
        if final and self._partial[channel]:
            lines.append(self._partial[channel])
            self._partial[channel] = b""
        return [raw.decode("utf-8", errors="replace").rstrip("\r") for raw in lines]

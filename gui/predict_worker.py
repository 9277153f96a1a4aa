"""The app's prediction worker: one ``cellwright serve`` process kept alive between predictions.

The model load is paid by the first prediction only (from the run's ONNX copy when it is fresh, so the first
prediction does not wait for TensorFlow either: see :mod:`builder.workflow.onnx_cache`; the log's "Model loaded"
line names the engine); later ones send a JSON request line to the same process. :class:`PredictWorker` looks
like :class:`gui.workers.WorkerProcess` to the panel (``event``/``line``/``finished`` signals, :meth:`running`,
:attr:`errors`, :meth:`save_log`), but ``running`` and ``finished`` are about the current request, not the
process. The process is started on the first request, started again (and the log says so) when it died,
restarted when a request names another model, and stopped by :meth:`stop` (the app calls it on quit and when
the selected run changes). The GUI itself never imports TensorFlow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, Signal

from builder.events import parse_event_line
from gui.worker_messages import LogCleaner, OutputLines
from gui.workers import cellwright_argv


class PredictWorker(QObject):
    """A long-lived ``cellwright serve`` process and the one request it is answering.

    Signals
    -------
    event(dict)
        Every event of the current request, and the worker's own (``start``, ``log`` with ``model_loaded``).
    line(str)
        Log text: stderr without tracebacks, and the worker's own notes (started, restarted, stopped).
    finished(int)
        The current request ended: 0 predicted, 1 files skipped, 2 a problem to fix (in :attr:`errors`),
        3 a bug, -1 the worker process stopped during the request.
    """

    event = Signal(dict)
    line = Signal(str)
    finished = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self.model: Path | None = None
        self.current: str | None = None
        self.errors: list[dict[str, Any]] = []
        self.stdout_text = ""
        self.stderr_text = ""
        self.starts = 0
        self.model_loads = 0
        self.log: list[str] = []
        self._count = 0
        self._output = OutputLines()
        self._stopping = False
        self._last_exit: int | None = None
        self.cleaner = LogCleaner()

    # ------------------------------------------------------------------ state
    def alive(self) -> bool:
        """True while the worker process runs (idle or busy)."""
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def running(self) -> bool:
        """True while a request is being answered."""
        return self.current is not None

    def died(self) -> bool:
        """True when the last worker stopped without being asked to (the next request starts a new one)."""
        return not self.alive() and self._last_exit is not None

    def pid(self) -> int | None:
        return int(self.process.processId()) if self.alive() and self.process is not None else None

    # --------------------------------------------------------------- requests
    def submit(self, model: str | os.PathLike[str], request: dict[str, Any]) -> str | None:
        """Send one prediction request (``images``, ``out`` and predict's options; see
        :mod:`builder.workflow.predict_server`) for ``model``; returns its id, or None while another runs.

        Starts the worker when none runs (saying so in the log when the last one died), and starts a new one
        when ``model`` is not the one the running worker was started with.
        """
        if self.running():
            return None
        model = Path(model)
        if self.alive() and model != self.model:
            self._note(f"The selected run changed to {model.name}: the prediction worker is restarted with it.")
            self.stop()
        if not self.alive():
            self._launch(model)
        self._count += 1
        self.current = f"r{self._count}"
        self.errors = []
        assert self.process is not None
        line = json.dumps({**request, "id": self.current, "model": str(model)}) + "\n"
        self.process.write(line.encode("utf-8"))
        return self.current

    def stop(self, timeout_ms: int = 5000) -> None:
        """End the worker: ask it to stop (end of its input), kill it when it does not within ``timeout_ms``."""
        if not self.alive() or self.process is None:
            return
        self._stopping = True
        self.process.write(b'{"stop": true}\n')
        self.process.closeWriteChannel()
        if not self.process.waitForFinished(timeout_ms):
            self.process.kill()
            self.process.waitForFinished(2000)
        self._note("The prediction worker was stopped.")

    def save_log(self, path: str | os.PathLike[str]) -> Path:
        """Write everything the worker printed (stdout, then stderr, tracebacks included) to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.stdout_text + self.stderr_text, encoding="utf-8")
        return path

    # ---------------------------------------------------------------- process
    def _note(self, text: str) -> None:
        self.log.append(text)
        self.line.emit(text)

    def _launch(self, model: Path) -> None:
        if self.starts and self._last_exit is not None:
            self._note(f"The prediction worker had stopped (exit code {self._last_exit}); starting a new one, "
                       "which loads the model again.")
        self._stopping, self._last_exit = False, None
        self._output = OutputLines()
        self.cleaner = LogCleaner()
        process = QProcess(self)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._process_finished)
        process.errorOccurred.connect(self._process_error)
        if model.parent.is_dir():
            process.setWorkingDirectory(str(model.parent))
        if self.process is not None:
            self.process.deleteLater()
        self.process, self.model = process, model
        argv = cellwright_argv("serve", str(model))
        process.start(argv[0], argv[1:])
        self.starts += 1

    def _read_stdout(self, final: bool = False) -> None:
        if self.process is None:
            return
        for text in self._output.feed("out", bytes(self.process.readAllStandardOutput()), final):
            parsed = parse_event_line(text)
            if parsed is None:
                self.stdout_text += text + "\n"
                continue
            self.stdout_text += text + "\n"
            self._on_event(parsed)

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("kind") == "model_loaded":
            self.model_loads += 1
            self._note(str(event.get("message") or "Model loaded."))
        request = event.get("request")
        if request is not None and request != self.current:
            return  # a late event of a request that was given up
        if event.get("event") == "error" and (request is not None or self.current is not None):
            self.errors.append(event)
        self.event.emit(event)
        if event.get("event") == "done" and request == self.current and request is not None:
            self.current = None
            self.finished.emit(int(event.get("code", 0)))

    def _read_stderr(self, final: bool = False) -> None:
        if self.process is None:
            return
        for text in self._output.feed("err", bytes(self.process.readAllStandardError()), final):
            self.stderr_text += text + "\n"
            if (shown := self.cleaner.feed(text)) is not None:
                self.line.emit(shown)

    def _process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if self.sender() is not self.process:
            return  # an old worker, already replaced
        self._read_stdout(final=True)
        self._read_stderr(final=True)
        crashed = status == QProcess.ExitStatus.CrashExit
        self._last_exit = None if self._stopping else (-1 if crashed and not code else int(code))
        if self._last_exit is not None:
            self._note(f"The prediction worker stopped unexpectedly (exit code {self._last_exit}); the next "
                       "prediction starts a new one.")
        if self.current is not None:
            self.current = None
            self.finished.emit(-1)

    def _process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.sender() is self.process:
            self._note(f"Could not start the prediction worker: {self.process.errorString()}")
            self._last_exit = -1
            if self.current is not None:
                self.current = None
                self.finished.emit(-1)

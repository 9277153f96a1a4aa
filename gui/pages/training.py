"""The training page: start/stop/resume, progress and ETA, live curves, device line and a readable log.

Training runs in a detached ``cellwright train RECIPE --events`` process that keeps going when the window
closes; its output goes to ``runs/gui-<name>-<time>.events.jsonl`` next to the recipe, which this page
follows (and finds again when the recipe is reopened).
"""

from __future__ import annotations

import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui import workers
from gui.document import RecipeDocument
from gui.pages.curves import Curves

CommandFactory = Callable[[Path, bool], list[str]]


def default_command(recipe: Path, resume: bool) -> list[str]:
    """``cellwright train RECIPE --events`` (plus ``--resume`` to continue the last run)."""
    return workers.cellwright_argv("train", str(recipe), "--events", *(["--resume"] if resume else []))


def device_explanation() -> str:
    """A plain sentence about the device training will use, found without importing TensorFlow."""
    from builder.environment import explain_missing_gpu, package_version

    package = next((d for d in ("tensorflow", "tensorflow-cpu", "tensorflow-macos") if package_version(d)), None)
    if shutil.which("nvidia-smi") and package not in (None, "tensorflow-cpu"):
        return "An NVIDIA GPU driver is installed; training will use the GPU if TensorFlow can see it."
    return "CPU. " + explain_missing_gpu(built_with_cuda=package not in (None, "tensorflow-cpu"),
                                         tensorflow_package=package, nvidia_smi=bool(shutil.which("nvidia-smi")),
                                         system=platform.system())


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class TrainingPage(QWidget):
    """Start and watch a training run of the open recipe."""

    run_finished = Signal(str)  # run folder

    def __init__(self, doc: RecipeDocument, save_first: Callable[[], bool] | None = None,
                 command: CommandFactory = default_command, parent=None) -> None:
        super().__init__(parent)
        self.doc, self.save_first, self.command = doc, save_first, command
        self.pid: int | None = None
        self.tail: workers.EventTail | None = None
        self.run_dir: str = ""
        self.events: list[dict[str, Any]] = []
        self.start_button = QPushButton("▶  Start training")
        self.start_button.setObjectName("primary")
        self.start_button.setToolTip("Train the model of this recipe (F5)")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the last run from its last checkpoint")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setEnabled(False)
        self.status = QLabel("Not started.")
        self.status.setObjectName("bigStatus")
        self.progress = QProgressBar()
        self.progress.setFormat("epoch %v of %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.eta = QLabel("ETA –")
        self.step = QLabel("")
        self.device = QLabel(f"Device: {device_explanation()}")
        self.device.setWordWrap(True)
        self.device.setObjectName("hint")
        self.curves = Curves()
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("Messages from the training process appear here.")

        buttons = QHBoxLayout()
        for widget in (self.start_button, self.resume_button, self.stop_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        grid = QGridLayout()
        grid.addWidget(self.status, 0, 0, 1, 3)
        grid.addWidget(self.progress, 1, 0, 1, 3)
        grid.addWidget(self.step, 2, 0)
        grid.addWidget(self.eta, 2, 2)
        grid.addWidget(self.device, 3, 0, 1, 3)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(self.log)
        split.setSizes([380, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        title = QLabel("Training")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        layout.addLayout(buttons)
        layout.addLayout(grid)
        layout.addWidget(split, 1)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.stop_button.clicked.connect(self.stop)
        doc.path_changed.connect(lambda _path: self.reattach())

    # ----------------------------------------------------------------- starting and stopping
    def project_dir(self) -> Path | None:
        return self.doc.path.parent if self.doc.path else None

    def start(self, resume: bool = False) -> bool:
        """Save the recipe if needed and start training in a detached process; returns ``True`` when started."""
        if self.running():
            return False
        if (self.doc.dirty or self.doc.path is None) and not (self.save_first and self.save_first()):
            self.status.setText("Save the recipe first: training runs the recipe file.")
            return False
        errors = [p for p in self.doc.problems if p.severity == "error"]
        if errors:
            QMessageBox.warning(self, "The recipe has problems",
                                "Fix these first (see the YAML panel of the editor):\n\n"
                                + "\n".join(p.format() for p in errors[:6]))
            return False
        name = str(self.doc.data.get("name") or "run")
        log_path = self.project_dir() / "runs" / f"gui-{name}-{time.strftime('%Y%m%d-%H%M%S')}.events.jsonl"
        try:
            self.pid = workers.start_detached(self.command(self.doc.path, resume), log_path, cwd=self.project_dir())
        except OSError as error:
            self.status.setText(f"Training could not start: {error}")
            return False
        workers.save_job(self.project_dir(), {"pid": self.pid, "log": str(log_path), "recipe": str(self.doc.path),
                                              "started": time.time()})
        self.curves.clear()
        self.log.clear()
        self.events = []
        self._follow(log_path)
        self.status.setText("Starting… (loading TensorFlow and the data takes a few seconds)")
        return True

    def _follow(self, log_path: Path) -> None:
        if self.tail is not None:
            self.tail.stop()
            self.tail.deleteLater()
        self.tail = workers.EventTail(log_path, parent=self)
        self.tail.event.connect(self.on_event)
        self.tail.line.connect(self.log.appendPlainText)
        self.tail.start()
        self._set_running(True)

    def reattach(self) -> None:
        """Follow a training started earlier for this project, if it is still running (or show how it ended)."""
        project = self.project_dir()
        job = workers.load_job(project) if project else None
        if not job or job.get("recipe") != str(self.doc.path) or self.running():
            return
        self.pid = int(job.get("pid") or 0)
        self.curves.clear()
        self.log.clear()
        self._follow(Path(job["log"]))
        if not workers.is_running(self.pid):
            self._set_running(False)

    def running(self) -> bool:
        return workers.is_running(self.pid)

    def stop(self) -> None:
        if self.pid and self.running():
            answer = QMessageBox.question(self, "Stop training?",
                                          "Stop the training now? The last checkpoint is kept; 'Resume' continues "
                                          "from it.") if self.isVisible() else QMessageBox.StandardButton.Yes
            if answer != QMessageBox.StandardButton.Yes:
                return
            workers.stop_process(self.pid)
            self.status.setText("Stopped. 'Resume' continues from the last checkpoint.")
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.resume_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    # ----------------------------------------------------------------- events
    def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        name = event.get("event")
        if name == "start":
            self.run_dir = str(event.get("run", ""))
            epochs = int(event.get("epochs") or 1)
            self.progress.setRange(0, epochs)
            self.progress.setValue(int(event.get("initial_epoch") or 0))
            device = event.get("device")
            if device:
                reason = "" if event.get("gpus") else device_explanation().removeprefix("CPU. ")
                self.device.setText(f"Device: {device}. {reason}".strip())
            self.status.setText(f"Training {self.doc.data.get('name', '')}: {epochs} epochs, "
                                f"{event.get('parameters', '?')} weights")
            self.log.appendPlainText(f"Run folder: {self.run_dir}")
        elif name == "batch":
            self.step.setText(f"epoch {event.get('epoch')} · step {event.get('step')} of {event.get('steps') or '?'}")
            self.eta.setText(f"ETA {format_duration(event.get('eta_s'))}")
        elif name == "epoch":
            self.progress.setRange(0, int(event.get("epochs") or self.progress.maximum()))
            self.progress.setValue(int(event.get("epoch") or 0))
            self.eta.setText(f"ETA {format_duration(event.get('eta_s'))}")
            metrics = event.get("metrics") or {}
            self.curves.add_epoch(float(event.get("epoch") or 0), metrics)
            summary = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items() if isinstance(v, (int, float)))
            self.log.appendPlainText(f"epoch {event.get('epoch')}/{event.get('epochs')}: {summary}")
        elif name in ("log", "warning"):
            self.log.appendPlainText(("warning: " if name == "warning" else "") + str(event.get("message", "")))
        elif name == "error":
            text = f"{event.get('where', '')}: {event.get('what', '')}".strip(": ")
            self.status.setText("Training stopped with an error.")
            self.log.appendPlainText(f"ERROR {text}" + (f"\n  fix: {event['fix']}" if event.get("fix") else ""))
            self._set_running(False)
        elif name == "done":
            self.run_dir = str(event.get("run", self.run_dir))
            self.progress.setValue(self.progress.maximum() if not event.get("stopped_early") else self.progress.value())
            self.eta.setText("ETA –")
            best = event.get("best_value")
            self.status.setText(f"Finished: {event.get('epochs_completed')} epochs"
                                + (f", best {event.get('monitor')} {best:.4g}" if isinstance(best, float) else ""))
            self._set_running(False)
            self.run_finished.emit(self.run_dir)

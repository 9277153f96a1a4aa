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

from PySide6.QtCore import Qt, QTimer, Signal
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

from builder.run_folder import list_runs
from gui import workers
from gui.document import RecipeDocument
from gui.pages.curves import Curves
from gui.weights_import import ImportWeightsButton, needs_import
from gui.worker_messages import error_text, failure_text

CommandFactory = Callable[[Path, "str | None"], list[str]]


def default_command(recipe: Path, resume_dir: str | None) -> list[str]:
    """``cellwright train RECIPE --events --runs DIR`` or ``cellwright train --resume RUN_DIR --events``."""
    if resume_dir:
        return workers.cellwright_argv("train", "--resume", str(resume_dir), "--events")
    return workers.cellwright_argv("train", str(recipe), "--events", "--runs", str(recipe.parent / "runs"))


def latest_run(project: Path, name: str) -> Path | None:
    """The newest run folder of recipe ``name`` under ``project/runs`` (``None`` when there is none)."""
    found = [run.path for run in list_runs(project / "runs", name) if run.recipe_path.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


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

    run_finished = Signal(str)  # run folder, when the job (training, evaluation, report, export) succeeded
    job_ended = Signal(str)  # run folder ("" when unknown), whenever the job ended: finished, failed or stopped

    def __init__(self, doc: RecipeDocument, save_first: Callable[[], bool] | None = None,
                 command: CommandFactory = default_command, parent=None) -> None:
        super().__init__(parent)
        self.doc, self.save_first, self.command = doc, save_first, command
        self.pid: int | None = None
        self.tail: workers.EventTail | None = None
        self.run_dir: str = ""
        self.log_path: Path | None = None
        self.events: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.exit_code: int | None = None
        self._stopped_by_user = False
        self._evaluation: tuple[str, str, float] | None = None  # (stage, unit, time of its first step) while evaluating
        self._watch = QTimer(self, interval=500)
        self._watch.timeout.connect(self._check_process)
        self.start_button = QPushButton("▶  Start training")
        self.start_button.setObjectName("primary")
        self.start_button.setToolTip("Train the model of this recipe (F5)")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the last run of this recipe from its last checkpoint")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setEnabled(False)
        self.status = QLabel("Not started.")
        self.status.setObjectName("bigStatus")
        self.progress = QProgressBar()
        self.progress.setFormat("not started")
        self.steps_per_epoch = 1
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.eta = QLabel("ETA –")
        self.step = QLabel("")
        self.message = QLabel("")
        self.message.setObjectName("errorBox")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
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
        grid.addWidget(self.message, 4, 0, 1, 3)
        self.import_weights = ImportWeightsButton(self.show_message)
        self.import_weights.hide()
        grid.addWidget(self.import_weights, 5, 0)
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
        """Save the recipe if needed and start training in a detached process; returns ``True`` when started.

        ``resume=True`` continues the last run of this recipe (``cellwright train --resume RUN_DIR``).
        """
        if self.running():
            return False
        if (self.doc.dirty or self.doc.path is None) and not (self.save_first and self.save_first()):
            self.status.setText("Save the recipe first: training runs the recipe file.")
            return False
        errors = [p for p in self.doc.problems if p.severity == "error"]
        if errors and not resume:
            QMessageBox.warning(self, "The recipe has problems",
                                "Fix these first (see the YAML panel of the editor):\n\n"
                                + "\n".join(p.format() for p in errors[:6]))
            return False
        name = str(self.doc.data.get("name") or "run")
        resume_dir = None
        if resume:
            last = Path(self.run_dir) if self.run_dir else latest_run(self.project_dir(), name)
            if last is None or not last.is_dir():
                self.status.setText("Nothing to resume: this recipe has no earlier run. Use 'Start training'.")
                return False
            resume_dir = str(last)
        log_path = self.project_dir() / "runs" / f"gui-{name}-{time.strftime('%Y%m%d-%H%M%S')}.events.jsonl"
        try:
            self.pid = workers.start_detached(self.command(self.doc.path, resume_dir), log_path,
                                              cwd=self.project_dir())
        except OSError as error:
            self.status.setText(f"Training could not start: {error}")
            return False
        workers.save_job(self.project_dir(), {"pid": self.pid, "log": str(log_path), "recipe": str(self.doc.path),
                                              "started": time.time(), "resume": resume_dir})
        self.curves.clear()
        self.log.clear()
        if resume_dir:  # the curve keeps the epochs before the stop
            earlier = self.curves.load_history(_read_history(Path(resume_dir)))
            if earlier:
                self.log.appendPlainText(f"Resuming: the curves show the {earlier} epoch(s) recorded before the stop "
                                         "(an epoch cut short is trained again).")
        self._follow(log_path)
        self.status.setText(("Resuming " + Path(resume_dir).name if resume_dir else "Starting")
                            + "… (loading TensorFlow and the data takes a few seconds)")
        return True

    def _follow(self, log_path: Path) -> None:
        if self.tail is not None:
            self.tail.stop()
            self.tail.deleteLater()
        self.log_path, self.events, self.errors, self.exit_code = log_path, [], [], None
        self.run_dir = ""
        self._stopped_by_user = False
        self.message.hide()
        self.tail = workers.EventTail(log_path, parent=self)
        self.tail.event.connect(self.on_event)
        self.tail.line.connect(self.log.appendPlainText)
        self.tail.start()
        self._set_running(True)
        self._watch.start()

    def _check_process(self) -> None:
        """Called twice a second while following a job: notices when the worker has ended and says how."""
        if self.running():
            return
        self._watch.stop()
        if self.tail is not None:
            self.tail.poll()
        if self.progress.maximum() == 0 or self._evaluation is not None:  # the evaluation's bar: back to the fit's
            full, value, text = getattr(self, "_bar_after_fit", (1, 1, ""))
            self.progress.setRange(0, full)
            self.progress.setValue(value)
            self.progress.setFormat(text or "%p %")
            self.step.setText("")
            self._evaluation = None
        code = workers.read_exit_code(self.log_path) if self.log_path else None
        self.exit_code = code
        self._set_running(False)
        self.eta.setText("ETA –")
        self.curves.mark_finished()
        if self._stopped_by_user:
            self.job_ended.emit(self.run_dir)
            return
        if code == 0:
            self.status.setText(self._finished_text())
            self.run_finished.emit(self.run_dir)
        else:
            self.status.setText("Training stopped with an error." if self.errors else "Training stopped.")
            self.show_message(failure_text(code, self.errors, self.log_path))
        self.job_ended.emit(self.run_dir)

    def _step_progress(self, event: dict[str, Any], done: bool = False) -> None:
        """Move the bar by steps within an epoch: "epoch 3 of 50 · 40 %" instead of jumping per epoch."""
        epochs = int(event.get("epochs") or max(self.progress.maximum() // max(self.steps_per_epoch, 1), 1))
        steps = int(event.get("steps") or 0) or self.steps_per_epoch
        self.steps_per_epoch = max(steps, 1)
        epoch = int(event.get("epoch") or 1)
        step = int(event.get("step") or 0)
        value = (epoch - 1) * self.steps_per_epoch + min(step, self.steps_per_epoch) if not done \
            else epoch * self.steps_per_epoch
        self.progress.setRange(0, epochs * self.steps_per_epoch)
        self.progress.setValue(value)
        percent = int(100 * min(step, self.steps_per_epoch) / self.steps_per_epoch) if not done else 100
        self.progress.setFormat(f"epoch {epoch} of {epochs}" + ("" if done else f" · {percent} %"))

    def _finished_text(self) -> str:
        fit = next((e for e in reversed(self.events) if e.get("event") == "done" and "epochs_completed" in e), {})
        best = fit.get("best_value")
        text = f"Finished: {fit.get('epochs_completed', '?')} epochs"
        if isinstance(best, (int, float)):
            text += f", best {fit.get('monitor')} {best:.4g}"
        test = next((e for e in reversed(self.events) if e.get("event") == "metric"), None)
        if test and isinstance(test.get("value"), (int, float)):
            text += f" · test {test.get('name')} {test['value']:.3f}"
        return text

    def show_message(self, text: str) -> None:
        """A plain message (what went wrong and the fix) above the curves; offers the weights import when the
        fix asks for it (offline pretrained backbone)."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.import_weights.setVisible(needs_import(text))

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

    def running(self) -> bool:
        return workers.is_running(self.pid)

    def stop(self) -> None:
        if self.pid and self.running():
            answer = QMessageBox.question(self, "Stop training?",
                                          "Stop the training now? The last checkpoint is kept; 'Resume' continues "
                                          "from it.") if self.isVisible() else QMessageBox.StandardButton.Yes
            if answer != QMessageBox.StandardButton.Yes:
                return
            self._stopped_by_user = True
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
            known, self.run_dir = self.run_dir, str(event.get("run", ""))
            epochs = int(event.get("epochs") or 1)
            self.steps_per_epoch = 1
            self.progress.setRange(0, epochs)
            self.progress.setValue(int(event.get("initial_epoch") or 0))
            self.progress.setFormat(f"epoch {int(event.get('initial_epoch') or 0) + 1} of {epochs} · starting")
            device = event.get("device")
            if device:
                reason = "" if event.get("gpus") else device_explanation().removeprefix("CPU. ")
                self.device.setText(f"Device: {device}. {reason}".strip())
            self.status.setText(f"Training {self.doc.data.get('name', '')}: {epochs} epochs, "
                                f"{event.get('parameters', '?')} weights")
            if known != self.run_dir:
                self.log.appendPlainText(f"Run folder: {self.run_dir}")
        elif name == "batch" and event.get("job") == "evaluate":
            self._evaluation_progress(event)
        elif name == "batch":
            self.step.setText(f"epoch {event.get('epoch')} · step {event.get('step')} of {event.get('steps') or '?'}")
            self._step_progress(event)
            self.eta.setText(f"ETA {format_duration(event.get('eta_s'))}")
        elif name == "epoch":
            self._step_progress({**event, "step": self.steps_per_epoch, "steps": self.steps_per_epoch}, done=True)
            self.eta.setText(f"ETA {format_duration(event.get('eta_s'))}")
            metrics = event.get("metrics") or {}
            self.curves.add_epoch(float(event.get("epoch") or 0), metrics)
            summary = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items() if isinstance(v, (int, float)))
            self.log.appendPlainText(f"epoch {event.get('epoch')}/{event.get('epochs')}: {summary}")
        elif name in ("log", "warning"):
            message = str(event.get("message", ""))
            if name == "log" and message.startswith("Run folder: "):
                self.run_dir = message.removeprefix("Run folder: ").strip()
            self.log.appendPlainText(("warning: " if name == "warning" else "") + message)
        elif name == "metric":
            value = event.get("value")
            if isinstance(value, (int, float)):
                self.log.appendPlainText(f"Test score {event.get('name')}: {value:.4g}")
        elif name == "artifact":
            self.log.appendPlainText(f"Wrote {event.get('kind', 'file')}: {event.get('path', '')}")
        elif name == "error":
            if self.errors and self.errors[-1].get("what") == event.get("what"):
                return  # the same error reported by two layers
            self.errors.append(event)
            self.status.setText("Training stopped with an error.")
            self.log.appendPlainText("ERROR " + error_text(event).replace("\nFix:", "\n  fix:"))
            self.show_message(error_text(event))
        elif name == "done":
            self.run_dir = str(event.get("run", self.run_dir))
            if "epochs_completed" in event:  # the fit is over; evaluation, report and export follow
                full = self.progress.maximum()
                self._bar_after_fit = (full, self.progress.value() if event.get("stopped_early") else full,
                                       self.progress.format().split(" · ")[0])
                self.progress.setRange(0, 0)  # busy until the evaluation's first step (loading the test images)
                self.step.setText("evaluating on the test images (tuning thresholds first where the task has them)")
                self.eta.setText("ETA –")
                self.status.setText(self._finished_text().replace("Finished", "Trained")
                                    + " · evaluating on the test images…")


    def _evaluation_progress(self, event: dict[str, Any]) -> None:
        """A determinate bar for the evaluation after training: "Evaluating: image 3 of 12" (or the threshold
        tuning before it: "Tuning thresholds: validation image 2 of 5", then "setting 14 of 40"), with an ETA."""
        stage, unit = str(event.get("stage") or "evaluate"), str(event.get("unit") or "image")
        step, total = int(event.get("step") or 0), int(event.get("total") or 0)
        now = float(event.get("time") or time.time())
        if self._evaluation is None or self._evaluation[:2] != (stage, unit) or step <= 1:
            self._evaluation = (stage, unit, now)
        if stage == "tune":
            text = f"Tuning thresholds: {'validation image' if unit == 'image' else unit} {step} of {total}"
        else:
            text = f"Evaluating: {unit} {step} of {total}"
        self.progress.setFormat(text)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(step, max(total, 1)))
        self.step.setText(text + (" (post-processing thresholds tried on the validation images)"
                                  if stage == "tune" and unit == "setting" else ""))
        started = self._evaluation[2]
        eta = (now - started) / (step - 1) * (total - step) if step > 1 and total else None
        self.eta.setText(f"ETA {format_duration(eta)}" if eta is not None else "ETA –")


def _read_history(run_dir: Path) -> list[dict[str, Any]]:
    """Finished epochs of a run (``history.json``); empty when the file is missing or unreadable."""
    from builder.errors import CellwrightError
    from builder.run_folder import RunFolder

    try:
        return RunFolder(run_dir).read_history()
    except (CellwrightError, OSError, ValueError):
        return []

"""Correct, don't redraw: the data page's model buttons (propose, mark checked, annotate next, retrain).

Every model job runs as a ``cellwright`` worker process (the window never imports TensorFlow): ``propose``
writes the model's masks or classes as annotations marked *proposed*, ``suggest`` ranks the images the model
is least sure about, ``retrain`` fine-tunes on the checked annotations and lets the guard set decide which
model stays current. "Mark checked" needs no model: it writes ``annotation_status.csv`` at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from builder.annotation.checked import mark
from builder.errors import CellwrightError
from gui.workers import WorkerProcess, cellwright_argv

#: What each job is called in the messages.
JOB_TITLES = {"propose": "Proposing annotations", "suggest": "Ranking images", "retrain": "Retraining"}


def decision_text(result: dict[str, Any]) -> str:
    """One line for the result of ``cellwright retrain --json``: which model won on the guard set, by how much."""
    decision = result.get("decision") or {}
    metric, n = decision.get("metric", "score"), decision.get("n_images", 0)
    new, current = decision.get("new"), decision.get("current")
    if new is None or current is None:
        return str(result.get("sentence") or "Retrained.")
    winner = "The new model" if decision.get("winner") == "new" else "The current model"
    change = float(new) - float(current)
    return (f"{winner} won on the {n} guard image(s): {metric} {float(new):.3f} (new) vs {float(current):.3f} "
            f"(current), {change:+.3f}. Current model: {Path(str(result.get('current', ''))).name}")


class LoopBar(QWidget):
    """Buttons that bring a trained model into annotating.

    Parameters
    ----------
    image : callable
        The image shown now (or None).
    data_root : callable
        The data folder (where ``annotation_status.csv`` lives), or None before one is chosen.
    before_job : callable
        Called before a job starts and before "Mark checked" (the page saves the edits not yet written).
    """

    reload_requested = Signal(str)  # list the images again and show the one of this name
    status_changed = Signal()  # an image's annotation status changed (the file list shows it)
    ranking_ready = Signal(list)  # rows of ``cellwright suggest``, most uncertain first
    message = Signal(str)

    def __init__(self, image: Callable[[], Path | None], data_root: Callable[[], Path | None],
                 before_job: Callable[[], None] = lambda: None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image, self.data_root, self.before_job = image, data_root, before_job
        self.run_dir: Path | None = None
        self.job = ""
        self.result: Any = None
        #: Asks for the run folder of the model (a test sets its own).
        self.ask_run: Callable[[], Path | None] = self._ask_run
        self.worker = WorkerProcess(self)
        self.worker.event.connect(self._event)
        self.worker.finished.connect(self._finished)
        self.propose = QPushButton("Propose masks with model…")
        self.propose.setToolTip("Choose a trained run; its predictions for the images without annotation are "
                                "written as proposed annotations you correct instead of drawing")
        self.propose.clicked.connect(lambda: self.start_propose(self.ask_run()))
        self.check = QPushButton("Mark checked")
        self.check.setToolTip("You looked at (and corrected) this image's annotation: retraining may use it")
        self.check.clicked.connect(self.mark_checked)
        self.next = QPushButton("Annotate next")
        self.next.setToolTip("Order the images by how unsure the model is about them and show the first")
        self.next.clicked.connect(lambda: self.start_suggest(self._run_or_ask()))
        self.retrain = QPushButton("Retrain from checked")
        self.retrain.setToolTip("Fine-tune the model on the checked annotations; the guard images decide "
                                "whether the new model replaces the current one")
        self.retrain.clicked.connect(lambda: self.start_retrain(self._run_or_ask()))
        self.model = QLabel("Model: none chosen")
        self.model.setObjectName("hint")
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for button in (self.propose, self.check, self.next, self.retrain):
            row.addWidget(button)
        row.addWidget(self.model)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.status)
        self.status.hide()  # shown with the first message

    # ----------------------------------------------------------------- choosing the model
    def set_kind(self, kind: str) -> None:
        """``masks`` or ``classes``: the propose button says what it writes."""
        self.propose.setText("Propose classes with model…" if kind == "classes" else "Propose masks with model…")

    def set_run(self, run_dir: Path | None) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        self.model.setText(f"Model: {self.run_dir.name}" if self.run_dir else "Model: none chosen")
        self.model.setToolTip(str(self.run_dir or ""))

    def _ask_run(self) -> Path | None:
        start = self.run_dir.parent if self.run_dir else (self.data_root() or Path.cwd())
        chosen = QFileDialog.getExistingDirectory(self, "Choose the run folder of a trained model", str(start))
        return Path(chosen) if chosen else None

    def _run_or_ask(self) -> Path | None:
        return self.run_dir or self.ask_run()

    # ----------------------------------------------------------------- jobs
    def busy(self) -> bool:
        return self.worker.running()

    def _start(self, job: str, run_dir: Path | None, *args: str) -> bool:
        if run_dir is None:
            return False
        if self.busy():
            self._say(f"{JOB_TITLES[self.job]} is still running; wait for it to finish.")
            return False
        self.set_run(run_dir)
        self.before_job()
        self.job, self.result = job, None
        for button in (self.propose, self.next, self.retrain):
            button.setEnabled(False)
        self._say(f"{JOB_TITLES[job]} with {run_dir.name}…")
        self.worker.start(cellwright_argv(job, str(run_dir), *args))
        return True

    def start_propose(self, run_dir: Path | None) -> bool:
        """Write ``run_dir``'s predictions for the unannotated images as proposed annotations."""
        return self._start("propose", run_dir, "--events", "--json")

    def start_suggest(self, run_dir: Path | None) -> bool:
        """Rank the images without a checked annotation, most uncertain first."""
        return self._start("suggest", run_dir, "--json")

    def start_retrain(self, run_dir: Path | None) -> bool:
        """Fine-tune ``run_dir``'s model on the checked annotations; the guard set decides."""
        return self._start("retrain", run_dir, "--events", "--json")

    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "batch" and event.get("total"):
            self._say(f"{JOB_TITLES.get(self.job, self.job)}: {event.get('step')} of {event['total']}")
        elif kind == "epoch" and event.get("epochs"):
            self._say(f"{JOB_TITLES.get(self.job, self.job)}: epoch {event.get('epoch')} of {event['epochs']}")

    def _finished(self, code: int) -> None:
        for button in (self.propose, self.next, self.retrain):
            button.setEnabled(True)
        job, self.result = self.job, self.worker.json_result()
        if code != 0 or not isinstance(self.result, dict) or self.result.get("ok") is False:
            self._say(f"{JOB_TITLES.get(job, job)} failed: {self._failure(code)}")
            self.result = None
            return
        if job == "propose":
            proposed, kept = self.result.get("proposed") or [], self.result.get("kept") or []
            self._say(f"{len(proposed)} proposed annotation(s) written ({len(kept)} kept as they were). Correct "
                      "each one, then press Mark checked.")
            first = proposed[0]["image"] if proposed else (self.image().name if self.image() else "")
            self.reload_requested.emit(str(first))
        elif job == "suggest":
            rows = list(self.result.get("ranking") or [])
            self._say(f"Annotate next: {len(rows)} image(s) ordered, the model is least sure about the first.")
            self.ranking_ready.emit(rows)
        elif job == "retrain":
            self.set_run(Path(str(self.result.get("current") or self.run_dir)))
            self._say(decision_text(self.result))
            self.reload_requested.emit(self.image().name if self.image() else "")

    def _failure(self, code: int) -> str:
        """Why the job failed, as the worker said it: the error (what, then the fix), else its last words."""
        if isinstance(self.result, dict) and isinstance(self.result.get("error"), dict):
            error = self.result["error"]
            return " ".join(str(error.get(k) or "") for k in ("where", "what", "fix") if error.get(k)).strip()
        if self.worker.errors:
            error = self.worker.errors[-1]
            return str(error.get("message") or error.get("what") or "")
        lines = [line.strip() for line in self.worker.stderr_text.splitlines() if line.strip()]
        said = [line for line in lines if line.startswith("error:")] or lines[-1:]
        return said[-1] if said else f"exit code {code}"

    # ----------------------------------------------------------------- checked
    def mark_checked(self) -> bool:
        """Mark the image shown as checked (its annotation may be trained on)."""
        image, root = self.image(), self.data_root()
        if image is None or root is None:
            self._say("Show an image of the data folder first.")
            return False
        self.before_job()
        try:
            mark(root, [image], "checked", by="user")
        except (CellwrightError, OSError) as error:
            self._say(f"Could not mark {image.name} checked: {error}")
            return False
        self._say(f"{image.name} is marked checked; retraining will use its annotation.")
        self.status_changed.emit()
        self.reload_requested.emit(image.name)  # a proposed image joins its split in the list
        return True

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.message.emit(text)


#: Colour and letter of each annotation status in the file list.
STATUS_MARKS = {"proposed": ("#e8912d", "P"), "checked": ("#2f9e44", "C"), "guard": ("#2f6fdf", "G")}


def status_icon(status: str) -> Any:
    """A small coloured square with the status's letter (P proposed, C checked, G guard) for the file list;
    an empty one of the same size for an image without status (the names stay aligned)."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    if status not in STATUS_MARKS:
        return QIcon(pixmap)
    colour, letter = STATUS_MARKS[status]
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(0, 0, 16, 16, 4, 4)
    font = QFont()
    font.setPixelSize(11)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRect(0, 0, 16, 16), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return QIcon(pixmap)

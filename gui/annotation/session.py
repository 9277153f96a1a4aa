"""One label image being edited: the viewer layer, its undo history, where it is saved and when (autosave)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from builder.annotation.autosave import AutosavePolicy
from builder.annotation.edits import delete_object, new_object_id, object_count
from builder.annotation.history import EditHistory
from builder.annotation.store import write_labels
from builder.errors import CellwrightError
from gui.viewer import ImageViewer
from gui.viewer.render import LabelLayer


class LabelSession(QObject):
    """Edits of the viewer's current label layer, saved to ``path`` atomically.

    Every edit goes through :meth:`apply` (undo history, object count, autosave after ``every_strokes`` edits);
    a timer saves edits that waited ``every_seconds``.
    """

    changed = Signal()  # labels, active object or history changed
    saved = Signal(str)  # the path written
    problem = Signal(str)  # a user-fixable problem, as text
    message = Signal(str)  # what an edit did, as text

    def __init__(self, viewer: ImageViewer, layer: LabelLayer, path: Path, *, every_strokes: int = 5,
                 every_seconds: float = 30.0, pixel_size: float | None = None,
                 history: EditHistory | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer, self.layer, self.path = viewer, layer, Path(path)
        self.pixel_size = pixel_size  # µm, the image's: written into the mask TIFF
        self.history = history if history is not None else EditHistory()
        self.policy = AutosavePolicy(every_strokes, every_seconds)
        self.active_id = 0
        self.saves = 0
        #: Goes up with every change of the labels (tools cache what they draw from them).
        self.version = 0
        #: The labels after the last finished edit: what is saved (never half a stroke).
        self.committed = layer.labels
        self.timer = QTimer(self)
        self.timer.setInterval(max(200, int(every_seconds * 1000 / 4)) if every_seconds else 1000)
        self.timer.timeout.connect(self._tick)
        if every_seconds:
            self.timer.start()

    # ----------------------------------------------------------------- state
    @property
    def labels(self) -> np.ndarray:
        return self.layer.labels

    @property
    def count(self) -> int:
        return object_count(self.layer.labels)

    @property
    def unsaved(self) -> int:
        return self.policy.unsaved

    def set_active(self, object_id: int) -> None:
        self.active_id = int(object_id)
        self.changed.emit()

    def new_object(self) -> int:
        """Make a fresh id (one above the largest) the active object; the next stroke paints it."""
        self.set_active(new_object_id(self.layer.labels))
        return self.active_id

    def paint_id(self) -> int:
        """The id a painting tool uses: the active object, or a new one when none is active."""
        return self.active_id or self.new_object()

    # ----------------------------------------------------------------- edits
    def show(self, labels: np.ndarray, *, during_stroke: bool = False) -> None:
        """Show ``labels``; ``during_stroke``: cheap (the layer's areas are recounted once, when the stroke ends;
        its colour table grows by itself when a new id appears)."""
        self.layer.labels = labels
        self.version += 1
        if not during_stroke:
            self.layer.changed()
        self.viewer.update()

    def apply(self, before: np.ndarray, after: np.ndarray, what: str) -> bool:
        """Make ``after`` the labels; record the edit ``before -> after``; autosave when due."""
        self.show(after)
        self.committed = after
        if not self.history.record(before, after, what):
            return False
        if self.policy.edited():
            self.save()
        self.changed.emit()
        return True

    def run(self, what: str, edit: Callable[[np.ndarray], np.ndarray]) -> bool:
        """Apply ``edit(labels)``; a problem the user can fix (e.g. a line that cuts nothing) is reported."""
        before = self.layer.labels
        try:
            after = edit(before)
        except CellwrightError as error:
            self.problem.emit(error.what + (f" {error.fix}" if error.fix else ""))
            return False
        return self.apply(before, after, what)

    def delete_active(self) -> bool:
        if not self.active_id:
            self.problem.emit("No object is selected. Right-click an object first.")
            return False
        done = self.run("delete", lambda labels: delete_object(labels, self.active_id))
        if done:
            self.set_active(0)
        return done

    def undo(self) -> None:
        if self.history.can_undo:
            self._restore(self.history.undo(self.layer.labels))

    def redo(self) -> None:
        if self.history.can_redo:
            self._restore(self.history.redo(self.layer.labels))

    def _restore(self, labels: np.ndarray) -> None:
        self.show(labels)
        self.committed = labels
        if self.policy.edited():
            self.save()
        self.changed.emit()

    # ----------------------------------------------------------------- files
    def save(self) -> Path | None:
        """Write the labels of the last finished edit (atomically; a stroke under way is left out).

        Returns the path, or None when it could not be written.
        """
        try:
            path = write_labels(self.path, self.committed, pixel_size=self.pixel_size)
        except (CellwrightError, OSError) as error:
            self.problem.emit(f"Could not save {self.path}: {error}")
            return None
        self.policy.saved()
        self.saves += 1
        self.saved.emit(str(path))
        self.changed.emit()
        return path

    def _tick(self) -> None:
        if self.policy.due():
            self.save()

    def close(self) -> None:
        """Save what is unsaved and stop the timer (another image is shown, or the page closes)."""
        self.timer.stop()
        if self.policy.unsaved:
            self.save()

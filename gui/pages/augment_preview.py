"""Augmentation preview: runs ``cellwright preview-augment`` in a worker and shows the PNG grid it writes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from gui import workers
from gui.document import RecipeDocument
from gui.recipe_io import atomic_write
from gui.worker_messages import failure_text


class AugmentPreview(QWidget):
    """A button, a seed and the grid: each row one training patch, first column the original."""

    def __init__(self, doc: RecipeDocument, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.out_dir = Path(tempfile.mkdtemp(prefix="cellwright-preview-"))
        self.png: Path | None = None
        self.side_recipe: Path | None = None
        self.button = QPushButton("Preview augmentation")
        self.button.setObjectName("primary")
        self.button.setToolTip("Cut training patches and augment them as training will (a few seconds)")
        self.seed = QSpinBox(minimum=0, maximum=999_999, value=0)
        self.seed.setPrefix("seed ")
        self.seed.setToolTip("Another seed shows other patches and other random augmentations")
        self.status = QLabel("Shows what the augment: section of the recipe does to training patches.")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.image = QLabel("")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setObjectName("imageView")
        self.scroll = scroll = QScrollArea()
        scroll.setWidget(self.image)
        scroll.setWidgetResizable(True)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.seed)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(row)
        layout.addWidget(scroll, 1)
        self.worker = workers.WorkerProcess(self)
        self.worker.finished.connect(self._finished)
        self.button.clicked.connect(self.start)

    def recipe_file(self) -> Path | None:
        """The recipe as it is now: the file itself when saved, else a hidden copy beside it (same data paths)."""
        if self.doc.path is None:
            return None
        if not self.doc.dirty:
            return self.doc.path
        self.side_recipe = self.doc.path.with_name(f".{self.doc.path.stem}.preview.yaml")
        atomic_write(self.side_recipe, self.doc.text())
        return self.side_recipe

    def start(self) -> bool:
        if self.worker.running():
            return False
        recipe = self.recipe_file()
        if recipe is None:
            self.status.setText("Save the recipe first: the preview reads the data folder named in it.")
            return False
        self.png = self.out_dir / f"augment-{self.seed.value()}.png"
        self.png.unlink(missing_ok=True)
        self.button.setEnabled(False)
        self.status.setText("Cutting and augmenting patches…")
        self.worker.start(workers.cellwright_argv("preview-augment", str(recipe), "--out", str(self.png),
                                                  "--seed", str(self.seed.value()), "--json"), cwd=recipe.parent)
        return True

    def _finished(self, code: int) -> None:
        self.button.setEnabled(True)
        if self.side_recipe is not None:
            self.side_recipe.unlink(missing_ok=True)
            self.side_recipe = None
        result = self.worker.json_result()
        if code == 0 and self.png is not None and self.png.exists():
            pixmap = QPixmap(str(self.png))
            width = self.scroll.viewport().width() - 4
            if pixmap.width() > width > 200:  # fit the grid to the width; tall grids still scroll
                pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
            self.image.setPixmap(pixmap)
            self.status.setText("Each row is one patch: the original on the left, augmented versions to the right.")
            return
        errors = list(self.worker.errors)
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            errors.append(result["error"])
        self.image.clear()
        log = None if errors else self.worker.save_log(self.out_dir / "preview-augment.log")
        self.status.setText(failure_text(code, errors, log))

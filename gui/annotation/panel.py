"""The data page's "Annotate" part: paint masks of the shown image, or give images / cells a class."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from builder.annotation.history import HistoryShelf
from builder.annotation.store import label_path_for
from builder.data.readers import read_pixel_size
from gui.annotation.class_items import crop_items, folder_items, manifest_items
from gui.annotation.classify import ClassifyPanel
from gui.annotation.loop import LoopBar
from gui.annotation.session import LabelSession
from gui.annotation.toolbar import AnnotationBar
from gui.viewer import ImageViewer

#: Checked tool / class / Annotate buttons must stand out (the app theme styles only plain buttons).
CHECKED_STYLE = "QPushButton:checked { background: #2f6fdf; color: white; border-color: #2f6fdf; }"


class AnnotatePanel(QWidget):
    """Above the viewer: an "Annotate" switch, then the painting tools or the class buttons.

    The page calls :meth:`image_shown` after it shows an image; masks are saved where the dataset keeps
    them (the image's mask, else ``masks/<image>.tif`` beside ``images/``), class labels in the dataset's own
    class folders or manifest, cell crops under ``<data root>/cell_classes/<class>/``.
    """

    item_shown = Signal(str)  # classification: the name of the image or crop now shown

    def __init__(self, viewer: ImageViewer, settings: Any, parent=None) -> None:
        super().__init__(parent)
        self.setStyleSheet(CHECKED_STYLE)
        # the tools keep their height; the viewer below gives way
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.viewer = viewer
        self.settings = settings  # () -> ("classes" | "masks" | "images", data section dict, data root or None)
        self.every_strokes, self.every_seconds = 5, 30.0
        self.session: LabelSession | None = None
        #: Undo histories of the images left, so coming back can still undo (bounded memory).
        self.histories = HistoryShelf()
        self.classify: ClassifyPanel | None = None
        self.image_path: Path | None = None
        self._mask_path: Path | None = None
        self.toggle = QPushButton("Annotate")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Paint and correct masks, or give images and cells a class; saved as you go")
        self.toggle.toggled.connect(self._toggled)
        self.cells = QPushButton("Classify cells…")
        self.cells.setToolTip("Step through the cells of this mask and give each a class with the number keys")
        self.cells.clicked.connect(self.classify_cells)
        self.class_names = QLineEdit()
        self.class_names.setPlaceholderText("classes, e.g. healthy, infected")
        self.class_names.setToolTip("The classes the number keys 1..9 give (comma-separated)")
        self.class_names.setMinimumWidth(280)
        self.note = QLabel("")
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        self.bar = AnnotationBar()
        self.loop = LoopBar(self.shown_image, lambda: self.settings()[2], self.save_pending)
        self.holder = QVBoxLayout()
        self.holder.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.toggle, self.cells, QLabel("Classes"), self.class_names):
            row.addWidget(widget)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.loop)
        column.addWidget(self.note)
        column.addWidget(self.bar)
        column.addLayout(self.holder)
        self._toggled(False)

    # ----------------------------------------------------------------- switching
    def _toggled(self, on: bool) -> None:
        kind, data, _root = self.settings()
        uses_labels = kind == "classes"
        self.bar.setVisible(on and kind == "masks")
        self.loop.setVisible(on and kind in ("masks", "classes"))
        self.loop.set_kind(kind)
        self.cells.setVisible(on and kind == "masks")
        self.class_names.setVisible(on)
        if not self.class_names.text():
            self.class_names.setText(", ".join(str(c) for c in data.get("classes") or []))
        self.note.setVisible(on)
        if not on:
            self.finish()
            self.note.setText("")
            return
        if uses_labels:
            self.classify_images()
        elif kind == "images":
            self.note.setText("This task learns from target images (denoising, label-free); there are no masks to "
                              "paint. Switch the recipe to segmentation or classification to annotate.")
        elif self.image_path is not None:
            self.image_shown(self.image_path, self._mask_path)

    def finish(self) -> None:
        """Save pending edits and leave painting / classifying (another image, or Annotate off)."""
        if self.session is not None:
            self.session.close()
            self.histories.put(str(self.session.path), self.session.history, self.session.committed)
            self.session.deleteLater()
            self.session = None
            self.bar.set_session(None)
        if self.classify is not None:
            self.classify.viewer.removeEventFilter(self.classify)
            self.classify.setParent(None)
            self.classify.deleteLater()
            self.classify = None

    def shown_image(self) -> Path | None:
        """The image on screen: the one being classified (it may have moved to a class folder), else the page's."""
        if self.classify is not None and self.classify.items:
            item = self.classify.items[self.classify.index]
            return Path(item.path) if hasattr(item, "path") else None  # a cell crop has no status of its own
        return self.image_path

    def save_pending(self) -> None:
        """Write the edits not yet saved (before a model job reads the masks, or the image is marked checked)."""
        if self.session is not None and self.session.unsaved:
            self.session.save()

    def hideEvent(self, event) -> None:
        """Leaving the page (or closing the window) writes the edits not yet saved."""
        if self.session is not None and self.session.unsaved:
            self.session.save()
        super().hideEvent(event)

    def classes(self) -> list[str]:
        return [c.strip() for c in self.class_names.text().split(",") if c.strip()]

    # ----------------------------------------------------------------- masks
    def image_shown(self, path: Path, mask_path: Path | None) -> LabelSession | None:
        """The page shows ``path``: start editing its mask (a new, empty one when it has none)."""
        if self.session is not None:
            self.finish()
        self.image_path, self._mask_path = Path(path), mask_path
        kind, data, _root = self.settings()
        if not self.toggle.isChecked() or kind != "masks" or self.viewer.image is None:
            return None
        frames, planes = self.viewer.image.shape_tzyxc[:2]
        if frames * planes > 1:
            self.note.setText(f"{Path(path).name} has {frames} time points and {planes} z planes; painting masks "
                              "works on single 2-D images for now (nothing is written).")
            return None
        layer = self.viewer.current_layer
        if layer is None:
            shape = (self.viewer.image.height, self.viewer.image.width)
            layer = self.viewer.add_labels("mask", np.zeros(shape, np.int32))
        target = label_path_for(Path(path), mask_path, masks=str(data.get("masks") or "masks"))
        self.session = LabelSession(self.viewer, layer, target, every_strokes=self.every_strokes,
                                    every_seconds=self.every_seconds, pixel_size=read_pixel_size(path),
                                    history=self.histories.take(str(target), layer.labels), parent=self)
        self.bar.set_session(self.session)
        self.note.setText("Left button: the tool · right button: pick an object · middle button: pan. "
                          f"Saved to {target} every {self.every_strokes} edits and after "
                          f"{self.every_seconds:g} s.")
        return self.session

    # ----------------------------------------------------------------- classes
    def classify_images(self) -> ClassifyPanel | None:
        """Give the dataset's images a class (class folders or manifest)."""
        _kind, data, root = self.settings()
        if root is None or not Path(root).is_dir():
            self.note.setText("Choose the data folder first.")
            return None
        classes = self.classes()
        if not classes:
            self.note.setText("Name the classes (comma-separated) first, then switch Annotate on again.")
            return None
        if data.get("layout") == "manifest" and data.get("manifest"):
            items = manifest_items(Path(root), Path(root) / str(data["manifest"]))
        else:
            items = folder_items(Path(root), classes)
        self.note.setText(f"Keys 1..{min(9, len(classes))} give the class and go on; ← → step. "
                          "Files move into their class folder (or the manifest's label column) at once.")
        return self._start_classify(classes, items)

    def classify_cells(self) -> ClassifyPanel | None:
        """Give each cell of the shown mask a class; crops go to ``<data root>/cell_classes/<class>/``."""
        layer, path = self.viewer.current_layer, self.image_path
        classes = self.classes()
        if layer is None or path is None or self.viewer.image is None or not classes:
            self.note.setText("Show an image with a mask and name the classes first.")
            return None
        _kind, _data, root = self.settings()
        pixels = np.asarray(self.viewer.image.plane())
        labels = layer.labels.copy()
        self.finish()
        out = Path(root or path.parent) / "cell_classes"
        self.note.setText(f"Keys 1..{min(9, len(classes))} give the class and go on; ← → step. "
                          f"Crops are saved as {out}/<class>/{path.stem}_cell<id>.tif.")
        names = list(self.viewer.image.channel_names)
        return self._start_classify(classes, crop_items(path, pixels, labels, out, channel_names=names))

    def _start_classify(self, classes: list[str], items: list) -> ClassifyPanel:
        self.classify = ClassifyPanel(self.viewer, classes, items)
        self.classify.shown.connect(self.item_shown)
        if items:
            self.item_shown.emit(self.classify.items[self.classify.index].name)
        self.holder.addWidget(self.classify)
        self.classify.show()  # a widget added to a shown page stays hidden until shown (it would ignore keys)
        self.viewer.setFocus()
        return self.classify

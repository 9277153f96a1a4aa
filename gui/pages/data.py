"""The data page: browse the images of the recipe's data folder with channel, contrast and mask overlay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.document import RecipeDocument
from gui.pages.augment_preview import AugmentPreview
from gui.pages.data_stats import class_counts

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".ome.tif", ".zarr")


def read_array(path: Path) -> tuple[np.ndarray, list[str]]:
    """Pixels as (Y, X, C) and channel names, with the engine's reader (first frame of a time-lapse)."""
    try:
        from builder.data.readers import read_image

        image = read_image(path)
        array, names = image.array, list(image.channel_names)
    except ImportError:  # pragma: no cover - the reader is part of every install
        import tifffile

        array = tifffile.imread(path)
        array = array[..., None] if array.ndim == 2 else array
        names = [f"ch{i}" for i in range(array.shape[-1])]
    if array.ndim == 4:
        array = array[0]
    return array, names or [f"ch{i}" for i in range(array.shape[-1])]


def to_display(array: np.ndarray, channel: int | None, low: float, high: float) -> np.ndarray:
    """8-bit RGB (Y, X, 3) of channel ``channel`` (``None`` = first three as colours), stretched between percentiles."""
    data = array.astype(np.float32)
    if channel is not None or data.shape[-1] == 1:
        data = data[..., [channel or 0]]
    else:
        data = data[..., :3]
    lo, hi = np.percentile(data, low), np.percentile(data, high)
    scaled = np.clip((data - lo) / max(float(hi - lo), 1e-6), 0, 1)
    if scaled.shape[-1] == 1:
        scaled = np.repeat(scaled, 3, axis=-1)
    elif scaled.shape[-1] == 2:
        scaled = np.concatenate([scaled, np.zeros_like(scaled[..., :1])], axis=-1)
    return (scaled * 255).astype(np.uint8)


def overlay(rgb: np.ndarray, mask: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Colour each label of ``mask`` (0 = background) over ``rgb``; outlines stay visible."""
    labels = mask[..., 0] if mask.ndim == 3 else mask
    labels = labels.astype(np.int64)
    rng = np.random.default_rng(7)
    palette = rng.integers(60, 255, size=(int(labels.max()) + 1, 3)).astype(np.float32)
    colours = palette[labels]
    out = rgb.astype(np.float32)
    inside = labels > 0
    out[inside] = (1 - alpha) * out[inside] + alpha * colours[inside]
    return out.astype(np.uint8)


def to_pixmap(rgb: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(rgb)
    height, width, _ = rgb.shape
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


class DataPage(QWidget):
    """Images of the data folder; shows one with its mask, channel choice and contrast."""

    def __init__(self, doc: RecipeDocument, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.folder: Path | None = None
        self.array: np.ndarray | None = None
        self.mask: np.ndarray | None = None
        self.folder_label = QLabel("No folder")
        self.folder_label.setObjectName("hint")
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self._choose)
        self.files = QListWidget()
        self.counts = QLabel("")
        self.counts.setWordWrap(True)
        self.class_table = QTableWidget(0, 5)
        self.class_table.verticalHeader().setVisible(False)
        self.class_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.class_table.setToolTip("How the recipe splits the data (train / validation / test) and what is in it")
        self.class_note = QLabel("")
        self.class_note.setObjectName("hint")
        self.class_note.setWordWrap(True)
        self.channel = QComboBox()
        self.low = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=50, value=1)
        self.high = QSlider(Qt.Orientation.Horizontal, minimum=50, maximum=1000, value=998)
        self.show_mask = QCheckBox("Show mask / labels")
        self.show_mask.setChecked(True)
        self.info = QLabel("")
        self.info.setObjectName("hint")
        self.view = QLabel("Choose a data folder, then an image.")
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view.setObjectName("imageView")
        scroll = QScrollArea()
        scroll.setWidget(self.view)
        scroll.setWidgetResizable(True)

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(choose)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.folder_label)
        column.addWidget(self.files, 1)
        column.addWidget(self.counts)
        column.addWidget(QLabel("Images and classes per split"))
        column.addWidget(self.class_table)
        column.addWidget(self.class_note)
        controls = QFormLayout()
        controls.addRow("Channel", self.channel)
        controls.addRow("Black level (percentile)", self.low)
        controls.addRow("White level (percentile)", self.high)
        controls.addRow("", self.show_mask)
        column.addLayout(controls)
        column.addWidget(self.info)
        self.augment = AugmentPreview(doc)
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "Image")
        self.tabs.addTab(self.augment, "Augmentation preview")
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setSizes([360, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        title = QLabel("Data")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        layout.addWidget(split, 1)
        self.files.currentTextChanged.connect(self.show_file)
        for widget in (self.low, self.high):
            widget.valueChanged.connect(self.redraw)
        self.channel.currentIndexChanged.connect(self.redraw)
        self.show_mask.toggled.connect(self.redraw)
        doc.path_changed.connect(lambda _p: self.load_from_recipe())

    # ----------------------------------------------------------------- folders and files
    def data_settings(self) -> dict[str, Any]:
        data = self.doc.data.get("data")
        return data if isinstance(data, dict) else {}

    def load_from_recipe(self) -> None:
        """Open the data folder the recipe points to (relative to the recipe file)."""
        base = self.doc.path.parent if self.doc.path else Path.cwd()
        root = base / str(self.data_settings().get("root", "."))
        if root.is_dir():
            self.set_folder(root)

    def _choose(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the data folder")
        if path:
            self.set_folder(Path(path))

    def set_folder(self, folder: Path) -> int:
        """List the images under ``folder`` (its ``images`` sub-folder when there is one); returns how many."""
        self.folder = folder
        settings = self.data_settings()
        images = folder / str(settings.get("images", "images"))
        source = images if images.is_dir() else folder
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES))
        self.files.clear()
        for path in files:
            self.files.addItem(str(path.relative_to(folder)))
        self.folder_label.setText(str(folder))
        self.counts.setText(self._count_text(source, files))
        self.update_class_counts()
        if files:
            self.files.setCurrentRow(0)
        return len(files)

    def update_class_counts(self) -> int:
        """Fill the split / class table from the recipe's data section; returns the number of rows."""
        header, rows, note = class_counts(self.doc.data, self.doc.path)
        self.class_table.clear()
        self.class_table.setColumnCount(len(header) or 1)
        self.class_table.setHorizontalHeaderLabels(header or [""])
        self.class_table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.class_table.setItem(r, c, item)
        self.class_table.resizeColumnsToContents()
        self.class_table.resizeRowsToContents()
        height = self.class_table.horizontalHeader().height() + sum(
            self.class_table.rowHeight(r) for r in range(len(rows))) + 2 * self.class_table.frameWidth() + 2
        self.class_table.setFixedHeight(min(240, height))
        self.class_table.setVisible(bool(rows))
        self.class_note.setText(note)
        return len(rows)

    def _count_text(self, source: Path, files: list[Path]) -> str:
        groups: dict[str, int] = {}
        for path in files:
            key = path.parent.name if path.parent != source else "(top folder)"
            groups[key] = groups.get(key, 0) + 1
        if len(groups) > 1:
            return f"{len(files)} images · " + ", ".join(f"{k}: {v}" for k, v in sorted(groups.items()))
        return f"{len(files)} images"

    def mask_path(self, image: Path) -> Path | None:
        if self.folder is None:
            return None
        settings = self.data_settings()
        masks = self.folder / str(settings.get("masks") or "masks")
        for candidate in (masks / image.name, *masks.glob(image.stem + ".*")):
            if candidate.is_file():
                return candidate
        return None

    def show_file(self, relative: str) -> None:
        if not relative or self.folder is None:
            return
        path = self.folder / relative
        try:
            self.array, names = read_array(path)
            mask_path = self.mask_path(path)
            self.mask = read_array(mask_path)[0] if mask_path else None
        except Exception as error:
            self.array, self.mask = None, None
            self.view.setText(f"Cannot read {path.name}: {error}")
            return
        self.channel.blockSignals(True)
        self.channel.clear()
        if self.array.shape[-1] > 1:
            self.channel.addItem("All (colour)")
        self.channel.addItems(names)
        self.channel.blockSignals(False)
        objects = ""
        if self.mask is not None:
            objects = f" · mask: {len(np.unique(self.mask)) - (1 if (self.mask == 0).any() else 0)} labels"
        self.info.setText(f"{path.name}: {self.array.shape[1]} × {self.array.shape[0]} px, "
                          f"{self.array.shape[-1]} channel(s), {self.array.dtype}{objects}")
        self.redraw()

    def redraw(self) -> None:
        if self.array is None:
            return
        multi = self.array.shape[-1] > 1
        index = self.channel.currentIndex()
        channel = None if (multi and index <= 0) else (index - 1 if multi else 0)
        low, high = self.low.value() / 10, self.high.value() / 10
        rgb = to_display(self.array, channel, low, max(high, low + 0.1))
        if self.show_mask.isChecked() and self.mask is not None and self.mask.shape[:2] == rgb.shape[:2]:
            rgb = overlay(rgb, self.mask)
        pixmap = to_pixmap(rgb)
        if pixmap.width() < 400:
            pixmap = pixmap.scaled(pixmap.width() * (400 // pixmap.width()), pixmap.height() * (400 // pixmap.width()),
                                   Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        self.view.setPixmap(pixmap)

"""The data page: browse the images of the recipe's data folder with channel, contrast and mask overlay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from builder.tasks import all_tasks, get_task
from gui.annotation.panel import AnnotatePanel
from gui.document import RecipeDocument
from gui.pages.augment_preview import AugmentPreview
from gui.pages.data_stats import class_counts, recipe_samples
from gui.pages.track_player import TimelapsePane
from gui.viewer import ImageViewer
from gui.viewer.controls import ViewerControls

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".ome.tif", ".zarr")


def read_array(path: Path) -> tuple[np.ndarray, list[str]]:
    """Pixels as (Y, X, C) (or (T, Y, X, C) for a time-lapse) and channel names, with the engine's reader."""
    try:
        from builder.data.readers import read_image

        image = read_image(path)
        array, names = image.array, list(image.channel_names)
    except ImportError:  # pragma: no cover - the reader is part of every install
        import tifffile

        array = tifffile.imread(path)
        array = array[..., None] if array.ndim == 2 else array
        names = [f"ch{i}" for i in range(array.shape[-1])]
    return array, names or [f"ch{i}" for i in range(array.shape[-1])]


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
        self.samples: dict[str, tuple[Path, Path | None]] = {}
        self.info = QLabel("")
        self.info.setObjectName("hint")
        self.info.setWordWrap(True)
        self.hover = QLabel("")
        self.hover.setObjectName("hint")
        self.viewer = ImageViewer()
        self.viewer.message = "Choose a data folder, then an image."
        self.viewer.show_hover_overlay = False
        self.viewer.hovered.connect(self.hover.setText)
        self.controls = ViewerControls(self.viewer)
        viewer_pane = QWidget()
        viewer_column = QVBoxLayout(viewer_pane)
        viewer_column.setContentsMargins(0, 0, 0, 0)
        self.annotate = AnnotatePanel(self.viewer, self._annotation_settings)
        self.annotate.toggle.toggled.connect(self._annotate_toggled)
        self.annotate.item_shown.connect(self._follow_classified_item)
        self.annotate.loop.reload_requested.connect(self.reload_showing)
        self.annotate.loop.status_changed.connect(self.show_status)
        self.annotate.loop.ranking_ready.connect(self.order_by_ranking)
        viewer_column.addWidget(self.annotate)
        viewer_column.addWidget(self.viewer, 1)
        viewer_column.addWidget(self.hover)

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
        column.addWidget(self.controls)
        column.addWidget(self.info)
        self.augment = AugmentPreview(doc)
        self.tabs = QTabWidget()
        self.tabs.addTab(viewer_pane, "Image")
        self.tabs.addTab(self.augment, "Augmentation preview")
        self.timelapse = TimelapsePane()
        self.tabs.addTab(self.timelapse, "Time-lapse (tracks)")
        self.tabs.currentChanged.connect(  # the image controls do not act on the time-lapse player
            lambda index: self.controls.setVisible(self.tabs.widget(index) is not self.timelapse))
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
        doc.path_changed.connect(lambda _p: self.load_from_recipe())

    # ----------------------------------------------------------------- folders and files
    def _annotation_settings(self) -> tuple[str, dict[str, Any], Path | None]:
        """What the annotation panel needs: what the task learns from ("classes", "masks" or "images": a target
        image, nothing to paint), the data section and the data folder."""
        from builder.errors import CellwrightError
        from builder.tasks import get_task

        try:
            task = get_task(str(self.doc.data.get("task", "")))
            kind = "classes" if task.uses_labels else "images" if task.image_target else "masks"
        except (CellwrightError, KeyError, ValueError):
            kind = "masks"
        return kind, self.data_settings(), self.folder

    def _annotate_toggled(self, on: bool) -> None:
        """Annotate off: list the images again (classes may have moved files) and show the same one."""
        if on:
            return
        current = self.files.currentItem().text() if self.files.currentItem() else ""
        self.load_from_recipe()
        found = self.files.findItems(current, Qt.MatchFlag.MatchExactly) if current else []
        if found and self.files.currentItem() is not found[0]:
            self.files.setCurrentItem(found[0])

    def _follow_classified_item(self, name: str) -> None:
        """While classifying, the file list and the info line follow the image the panel shows."""
        self.info.setText(f"Classifying {name}")
        for row in range(self.files.count()):
            if Path(self.files.item(row).text()).name == name:
                self.files.blockSignals(True)  # the panel already shows it: no reload
                self.files.setCurrentRow(row)
                self.files.blockSignals(False)
                return
        self.files.blockSignals(True)
        self.files.setCurrentRow(-1)  # a cell crop, or an image moved since listing: no stale selection
        self.files.blockSignals(False)

    def data_settings(self) -> dict[str, Any]:
        data = self.doc.data.get("data")
        return data if isinstance(data, dict) else {}

    def load_from_recipe(self) -> int:
        """Show the images the recipe trains on (as the engine finds them: any layout, demo data too).

        Whatever the previous recipe showed is cleared first. Returns the number of images listed.
        """
        samples, root, note = recipe_samples(self.doc.data, self.doc.path)
        if not samples:  # the recipe has errors elsewhere (e.g. in the graph): still show the data folder
            base = self.doc.path.parent if self.doc.path else Path.cwd()
            folder = base / str(self.data_settings().get("root", "."))
            if self.data_settings().get("layout", "folders") != "demo" and folder.is_dir():
                return self.set_folder(folder)
        self.folder = root
        self.samples = {}
        for split, image, mask in samples:
            base = root if root is not None and image.is_relative_to(root) else image.parent
            self.samples[f"{split}: {image.relative_to(base)}"] = (image, mask)
        self.folder_label.setText(str(root) if root is not None else "No folder")
        task = self.doc.data.get("task")
        if isinstance(task, str) and task in all_tasks() and get_task(task).time_lapse:
            self.tabs.setCurrentWidget(self.timelapse)  # a tracking recipe opens on its time-lapse
        return self._list(list(self.samples), note or f"{len(samples)} images · " + ", ".join(
            f"{split} {sum(1 for s in samples if s[0] == split)}" for split in dict.fromkeys(s[0] for s in samples)))

    def _list(self, names: list[str], counts: str) -> int:
        """Fill the file list; with no files the viewer is cleared (nothing stale stays on screen)."""
        self.files.blockSignals(True)
        self.files.clear()
        self.files.addItems(names)
        self.files.blockSignals(False)
        self.show_status()
        self.counts.setText(counts)
        self.update_class_counts()
        self.array = self.mask = None
        self.info.setText("")
        if names:
            self.files.setCurrentRow(0)
            self.show_file(names[0])
        else:
            self.viewer.clear(counts or "No images.")
        return len(names)

    # ----------------------------------------------------------------- annotation status and order
    def listed_path(self, text: str) -> Path | None:
        """The image file of a line of the file list."""
        if text in self.samples:
            return self.samples[text][0]
        return self.folder / text if self.folder is not None else None

    def show_status(self) -> dict[str, str]:
        """Mark each listed image with its annotation status (P proposed, C checked, G guard; tooltip says who
        and when). Returns {list text: status} of the marked ones."""
        from PySide6.QtGui import QIcon

        from builder.annotation.checked import read_status
        from builder.errors import CellwrightError
        from gui.annotation.loop import status_icon

        try:
            rows = read_status(self.folder) if self.folder is not None else {}
        except CellwrightError as error:
            self.info.setText(error.format())
            rows = {}
        marked: dict[str, str] = {}
        for i in range(self.files.count()):
            item = self.files.item(i)
            path = self.listed_path(item.text())
            row = rows.get(path.name) if path is not None else None
            item.setIcon(status_icon(row.status if row is not None else "") if rows else QIcon())
            item.setToolTip(f"{row.status} (by {row.by or 'unknown'}, {row.updated})" if row is not None else "")
            if row is not None:
                marked[item.text()] = row.status
        return marked

    def reload_showing(self, name: str) -> int:
        """List the images again (new proposals appear) and show the one called ``name`` (else the first)."""
        count = self.load_from_recipe()
        for row in range(self.files.count()):
            if name and Path(self.files.item(row).text()).name == name:
                if self.files.currentRow() != row:
                    self.files.setCurrentRow(row)
                break
        return count

    def order_by_ranking(self, rows: list[dict[str, Any]]) -> list[str]:
        """Put the ranked images first, most uncertain first, and show the first; returns the new order."""
        rank = {}
        for row in rows:
            rank.setdefault(Path(str(row["image"])).resolve(), row)
        texts = [self.files.item(i).text() for i in range(self.files.count())]

        def key(item: tuple[int, str]) -> tuple[float, int]:
            path = self.listed_path(item[1])
            found = rank.get(path.resolve()) if path is not None else None
            return (float(found["rank"]) if found is not None else float("inf"), item[0])

        order = [text for _i, text in sorted(enumerate(texts), key=key)]
        self.files.blockSignals(True)
        self.files.clear()
        self.files.addItems(order)
        self.files.blockSignals(False)
        self.show_status()
        for i, text in enumerate(order):
            path = self.listed_path(text)
            found = rank.get(path.resolve()) if path is not None else None
            if found is not None:
                item = self.files.item(i)
                item.setToolTip(f"annotate next #{found['rank']}: uncertainty {float(found['score']):.3f}"
                                + (f" · {item.toolTip()}" if item.toolTip() else ""))
        if order:
            self.files.setCurrentRow(0)
        return order

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
        self.samples = {}
        self.folder_label.setText(str(folder))
        return self._list([str(path.relative_to(folder)) for path in files],
                          self._count_text(source, files) if files else f"No images found in {source}.")

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
        """Show one listed image (and its mask or target as a label layer) in the viewer."""
        if not relative:
            return
        if relative in self.samples:
            path, mask_path = self.samples[relative]
        elif self.folder is not None:
            path = self.folder / relative
            mask_path = self.mask_path(path)
        else:
            return
        try:
            self.array, names = read_array(path)
            self.mask = read_array(mask_path)[0] if mask_path else None
        except Exception as error:
            self.array, self.mask = None, None
            self.viewer.clear(f"Cannot read {path.name}: {error}")
            return
        self.timelapse.follow(path)
        axes = "TYXC" if self.array.ndim == 4 else "YXC"
        self.viewer.set_image(self.array, axes=axes, channel_names=names)
        objects = ""
        if self.mask is not None and self.mask.shape[-3 if self.mask.ndim >= 3 else 0:][:2] == \
                self.array.shape[-3:-1] and np.issubdtype(self.mask.dtype, np.integer):
            labels = self.mask[..., 0] if self.mask.ndim == 3 else self.mask
            self.viewer.add_labels("mask", labels)
            self.controls.sync()
            objects = f" · mask: {len(np.unique(labels)) - (1 if (labels == 0).any() else 0)} labels"
        self.info.setText(f"{path.name}: {self.array.shape[-2]} × {self.array.shape[-3]} px, "
                          f"{self.array.shape[-1]} channel(s), {self.array.dtype}{objects}")
        self.annotate.image_shown(path, mask_path)

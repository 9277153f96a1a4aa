"""Assign classes with the number keys: 1..9 give the class and move on; ← → (or , .) step back and forth."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from builder.errors import CellwrightError
from gui.annotation.class_items import CropItem, ImageItem
from gui.viewer import ImageViewer

Item = ImageItem | CropItem
_DIGITS = {getattr(Qt.Key, f"Key_{n}"): n for n in range(1, 10)}


class ClassifyPanel(QWidget):
    """Steps through ``items`` in ``viewer``; a class button or number key writes that item's class at once."""

    assigned = Signal(int, str)  # item index, class
    shown = Signal(str)  # the name of the item now in the viewer

    def __init__(self, viewer: ImageViewer, classes: list[str], items: list[Item], parent=None) -> None:
        super().__init__(parent)
        self.viewer, self.classes, self.items = viewer, list(classes), list(items)
        self.index = 0
        self.advance = True
        self.title = QLabel("")
        self.title.setObjectName("classifyTitle")
        self.counts = QLabel("")
        self.counts.setObjectName("classCounts")
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.previous_button = QPushButton("◀ Previous")
        self.previous_button.setToolTip("Previous item (← or ,)")
        self.previous_button.clicked.connect(self.previous)
        row.addWidget(self.previous_button)
        self.class_buttons: list[QPushButton] = []
        for number, name in enumerate(self.classes[:9], start=1):
            button = QPushButton(f"{number}  {name}")
            button.setCheckable(True)
            button.setToolTip(f"Class {name} (key {number})")
            button.clicked.connect(lambda _checked=False, n=name: self.assign(n))
            self.class_buttons.append(button)
            row.addWidget(button)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Next item (→ or .)")
        self.next_button.clicked.connect(self.next)
        row.addWidget(self.next_button)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 4)
        column.addWidget(self.title)
        column.addLayout(row)
        column.addWidget(self.counts)
        column.addWidget(self.status)
        viewer.installEventFilter(self)
        self.show_item(0)

    # ----------------------------------------------------------------- navigation
    def show_item(self, index: int) -> None:
        """Show item ``index`` (clamped) in the viewer."""
        if not self.items:
            self.viewer.clear("Nothing to classify here.")
            self._sync()
            return
        self.index = max(0, min(len(self.items) - 1, index))
        item = self.items[self.index]
        try:
            pixels, outline, names = item.pixels()
        except (CellwrightError, OSError, ValueError) as error:
            self.viewer.clear(f"Cannot read {item.name}: {error}")
        else:
            self.viewer.set_image(pixels, axes="YXC" if pixels.ndim == 3 else "YX", channel_names=names)
            if outline is not None:
                self.viewer.add_labels("cell", outline, outline=True, opacity=1.0)
        self._sync()
        self.shown.emit(item.name)

    def next(self) -> None:
        self.show_item(self.index + 1)

    def previous(self) -> None:
        self.show_item(self.index - 1)

    def assign(self, name: str) -> bool:
        """Give the shown item class ``name`` (written to disk now), then go to the next item."""
        if not self.items:
            return False
        try:
            self.items[self.index].assign(name)
        except (CellwrightError, OSError) as error:
            self.status.setText(str(error))
            self._sync()
            return False
        self.status.setText(f"{self.items[self.index].name}: {name}")
        self.assigned.emit(self.index, name)
        if self.advance and self.index < len(self.items) - 1:
            self.next()
        else:
            self._sync()
        return True

    def class_counts(self) -> dict[str, int]:
        """Items per class (every class listed), plus ``unlabelled``."""
        counted = Counter(item.label for item in self.items)
        counts = {name: counted.get(name, 0) for name in self.classes}
        counts["unlabelled"] = counted.get(None, 0)
        return counts

    # ----------------------------------------------------------------- keys and display
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) or self.isHidden():
            return False
        assert isinstance(event, QKeyEvent)
        key = event.key()
        number = _DIGITS.get(key) if event.modifiers() in (Qt.KeyboardModifier.NoModifier,
                                                           Qt.KeyboardModifier.KeypadModifier) else None
        handled = (number is not None and number <= len(self.class_buttons)) or key in (
            Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Comma, Qt.Key.Key_Period)
        if not handled:
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        if number is not None:
            self.assign(self.classes[number - 1])
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Comma):
            self.previous()
        else:
            self.next()
        return True

    def _sync(self) -> None:
        item = self.items[self.index] if self.items else None
        if item is None:
            self.title.setText("Nothing to classify")
        else:
            self.title.setText(f"<b>{self.index + 1} of {len(self.items)}</b> · {item.name} · class: "
                               f"<b>{item.label or 'none yet'}</b>")
        for button, name in zip(self.class_buttons, self.classes, strict=False):
            button.setChecked(item is not None and item.label == name)
        self.previous_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(bool(self.items) and self.index < len(self.items) - 1)
        self.counts.setText(" · ".join(f"{name}: {n}" for name, n in self.class_counts().items()))

"""The block palette: every registered block, grouped by category, searchable, draggable onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDrag
from PySide6.QtWidgets import QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from gui.graph_editor.catalog import BlockInfo
from gui.graph_editor.items import CATEGORY_COLORS
from gui.graph_editor.scene import MIME_BLOCK

_ROLE = Qt.ItemDataRole.UserRole


class _Tree(QTreeWidget):
    def startDrag(self, actions) -> None:
        item = self.currentItem()
        name = item.data(0, _ROLE) if item else None
        if not name:
            return
        mime = QMimeData()
        mime.setData(MIME_BLOCK, QByteArray(name.encode("utf-8")))
        mime.setText(name)
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Search field plus a category tree; double-click (or Enter) adds the block to the canvas."""

    block_activated = Signal(str)

    def __init__(self, blocks: dict[str, BlockInfo], parent=None) -> None:
        super().__init__(parent)
        self.blocks = blocks
        self.search = QLineEdit(placeholderText="Search blocks…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.tree = _Tree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        title = QLabel("Blocks")
        title.setObjectName("panelTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        if not blocks:
            empty = QLabel("No blocks are installed. Check the Cellwright installation.")
            empty.setWordWrap(True)
            layout.addWidget(empty)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._activate)
        self._fill()

    def _fill(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        for info in sorted(self.blocks.values(), key=lambda b: (b.category, b.name)):
            group = groups.get(info.category)
            if group is None:
                group = QTreeWidgetItem(self.tree, [info.category])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                group.setForeground(0, QBrush(QColor(CATEGORY_COLORS.get(info.category, "#495057"))))
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                groups[info.category] = group
            item = QTreeWidgetItem(group, [info.name])
            item.setData(0, _ROLE, info.name)
            item.setToolTip(0, _tooltip(info))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self.tree.expandAll()

    def filter(self, text: str) -> int:
        """Show only blocks whose name, category or description contains ``text``; returns how many."""
        needle = text.strip().lower()
        shown = 0
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            visible = 0
            for child_index in range(group.childCount()):
                child = group.child(child_index)
                info = self.blocks[child.data(0, _ROLE)]
                match = not needle or needle in f"{info.name} {info.category} {info.doc}".lower()
                child.setHidden(not match)
                visible += int(match)
            group.setHidden(visible == 0)
            shown += visible
        return shown

    def visible_names(self) -> list[str]:
        names = []
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            names += [group.child(i).data(0, _ROLE) for i in range(group.childCount()) if not group.child(i).isHidden()]
        return names

    def _activate(self, item: QTreeWidgetItem) -> None:
        name = item.data(0, _ROLE)
        if name:
            self.block_activated.emit(name)

    def _activate_first(self) -> None:
        names = self.visible_names()
        if names:
            self.block_activated.emit(names[0])


def _tooltip(info: BlockInfo) -> str:
    ins = ", ".join(f"{p.name} ({p.kind}{', several' if p.variadic else ''})" for p in info.inputs) or "none"
    outs = ", ".join(f"{p.name} ({p.kind})" for p in info.outputs)
    return f"<b>{info.name}</b> · {info.category}<br>{info.doc.replace(chr(10), '<br>')}<br><br>" \
           f"<i>inputs:</i> {ins}<br><i>outputs:</i> {outs}"

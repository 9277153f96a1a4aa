"""The annotation tool bar: tools, brush size, object buttons, undo/redo, object count and save state."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from gui.annotation.session import LabelSession
from gui.annotation.tools import BrushTool, FillTool, MergeTool, PickTool, PolygonTool, SplitTool, Tool

#: (tool name, button text, shortcut, tooltip)
TOOLS = (
    ("pan", "Pan", "Space", "Move the image with the left button (the middle button always pans)"),
    ("brush", "Brush", "B", "Paint the active object (a new one when none is active), never over other objects"),
    ("eraser", "Eraser", "E", "Paint background"),
    ("fill", "Fill", "G", "Fill the region under the cursor (e.g. the inside of an outline) with the active object"),
    ("polygon", "Polygon", "P", "A new object: click corners and double-click to close, or drag a lasso"),
    ("split", "Split", "S", "Drag a line across an object to cut it in two"),
    ("merge", "Merge", "M", "Click two objects to join them"),
    ("pick", "Pick", "K", "Click an object to make it the active one (right-click does this in every tool)"),
)


class AnnotationBar(QWidget):
    """Controls for one :class:`LabelSession`; the viewer's tool follows the checked button."""

    tool_changed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.session: LabelSession | None = None
        self.tool: Tool | None = None
        self.buttons: dict[str, QPushButton] = {}
        #: Keys handled while the viewer has the focus (they win over the window's own Ctrl+Z / Ctrl+S).
        self.keys: dict[QKeySequence, object] = {}
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        tools_row = QHBoxLayout()
        tools_row.setContentsMargins(0, 0, 0, 0)
        for name, text, key, tip in TOOLS:
            button = QPushButton(text)
            button.setCheckable(True)
            button.setToolTip(f"{tip} ({key})")
            button.clicked.connect(lambda _checked=False, n=name: self.set_tool(n))
            self.group.addButton(button)
            self.buttons[name] = button
            tools_row.addWidget(button)
            self.keys[QKeySequence(key)] = lambda n=name: self.set_tool(n)
        tools_row.addWidget(QLabel("Size"))
        self.size = QSpinBox()
        self.size.setRange(1, 200)
        self.size.setValue(8)
        self.size.setSuffix(" px")
        self.size.setToolTip("Brush and eraser diameter in image pixels ([ and ] change it)")
        self.size.valueChanged.connect(self._size_changed)
        tools_row.addWidget(self.size)
        tools_row.addStretch(1)

        actions_row = QHBoxLayout()
        actions_row.setContentsMargins(0, 0, 0, 0)
        self.new_button = self._action(actions_row, "New object", "N", "Start a new object (a fresh id)",
                                       lambda s: s.new_object())
        self.delete_button = self._action(actions_row, "Delete object", "Delete", "Remove the active object",
                                          lambda s: s.delete_active())
        self.undo_button = self._action(actions_row, "Undo", QKeySequence.StandardKey.Undo, "Undo the last edit",
                                        lambda s: s.undo())
        self.redo_button = self._action(actions_row, "Redo", QKeySequence.StandardKey.Redo, "Redo the undone edit",
                                        lambda s: s.redo())
        self.save_button = self._action(actions_row, "Save", QKeySequence.StandardKey.Save,
                                        "Write the mask now (it is also saved automatically)", lambda s: s.save())
        self.keys[QKeySequence("[")] = lambda: self.size.setValue(max(1, self.size.value() - 2))
        self.keys[QKeySequence("]")] = lambda: self.size.setValue(self.size.value() + 2)
        self.keys[QKeySequence("Escape")] = self._cancel
        self.keys[QKeySequence("Return")] = self._finish
        self.keys[QKeySequence("Ctrl+Y")] = lambda: self.session is not None and self.session.redo()
        self.count = QLabel("")
        self.count.setObjectName("objectCount")
        actions_row.addWidget(self.count)
        actions_row.addStretch(1)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 4)
        column.addLayout(tools_row)
        column.addLayout(actions_row)
        column.addWidget(self.status)
        self.buttons["brush"].setChecked(True)
        self._sync()

    def _action(self, row: QHBoxLayout, text: str, key, tip: str, call) -> QPushButton:
        button = QPushButton(text)
        sequence = QKeySequence(key)
        button.setToolTip(f"{tip} ({sequence.toString(QKeySequence.SequenceFormat.NativeText)})")
        button.clicked.connect(lambda: self.session is not None and call(self.session))
        for bound in QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [sequence]:
            self.keys[bound] = lambda: self.session is not None and call(self.session)
        row.addWidget(button)
        return button

    # ----------------------------------------------------------------- keys
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The viewer's keys: tool letters, N, Delete, [ ], Undo/Redo/Save while it has the focus."""
        if event.type() not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or self.session is None:
            return False
        assert isinstance(event, QKeyEvent)
        action = self.keys.get(QKeySequence(event.keyCombination()))
        if action is None:
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # the key reaches the viewer instead of the window's menu shortcut
            return True
        action()
        return True

    # ----------------------------------------------------------------- session and tools
    def set_session(self, session: LabelSession | None) -> None:
        """Edit ``session`` (None: nothing to edit; the viewer pans again)."""
        if session is not None and (self.session is None or self.session.viewer is not session.viewer):
            session.viewer.installEventFilter(self)
        if self.session is not None:
            for signal, slot in ((self.session.changed, self._sync), (self.session.saved, self._saved),
                                 (self.session.problem, self.status.setText),
                                 (self.session.message, self.status.setText)):
                signal.disconnect(slot)
        self.session = session
        if session is not None:
            session.changed.connect(self._sync)
            session.saved.connect(self._saved)
            session.problem.connect(self.status.setText)
            session.message.connect(self.status.setText)
            self.status.setText(f"Editing {Path(session.path).name} (saved as {session.path}).")
        self.set_tool(self.current_tool_name())

    def current_tool_name(self) -> str:
        return next((n for n, b in self.buttons.items() if b.isChecked()), "pan")

    def set_tool(self, name: str) -> None:
        """Switch to tool ``name`` (one of :data:`TOOLS`)."""
        self.buttons[name].setChecked(True)
        if self.tool is not None:
            self.tool.cancel()
        viewer = self.session.viewer if self.session is not None else None
        self.tool = None if self.session is None or name == "pan" else self._make(name, self.session)
        if viewer is not None:
            viewer.tool = self.tool
            viewer.setCursor(self.tool.cursor if self.tool else Qt.CursorShape.ArrowCursor)
            viewer.update()
        self.tool_changed.emit(name)
        self._sync()

    def _make(self, name: str, session: LabelSession) -> Tool:
        radius = self.size.value() / 2
        return {"brush": lambda: BrushTool(session, radius=radius),
                "eraser": lambda: BrushTool(session, erase=True, radius=radius),
                "fill": lambda: FillTool(session), "polygon": lambda: PolygonTool(session),
                "split": lambda: SplitTool(session), "merge": lambda: MergeTool(session),
                "pick": lambda: PickTool(session)}[name]()

    def _size_changed(self, value: int) -> None:
        if isinstance(self.tool, BrushTool):
            self.tool.radius = value / 2
            self.tool.viewer.update()

    def _cancel(self) -> None:
        if self.tool is not None:
            self.tool.cancel()
            self.tool.viewer.update()

    def _finish(self) -> None:
        if isinstance(self.tool, PolygonTool):
            self.tool.finish()

    # ----------------------------------------------------------------- display
    def _sync(self) -> None:
        session = self.session
        for button in (*self.buttons.values(), self.size, self.new_button, self.delete_button, self.save_button):
            button.setEnabled(session is not None)
        self.undo_button.setEnabled(session is not None and session.history.can_undo)
        self.redo_button.setEnabled(session is not None and session.history.can_redo)
        self.delete_button.setEnabled(session is not None and bool(session.active_id))
        if session is None:
            self.count.setText("No mask to edit")
            return
        active = f"active object {session.active_id}" if session.active_id else "no active object"
        unsaved = f" · {session.unsaved} unsaved edit(s)" if session.unsaved else " · saved"
        self.count.setText(f"<b>{session.count} objects</b> · {active}{unsaved}")

    def _saved(self, path: str) -> None:
        self.status.setText(f"Saved {path}")
        self._sync()

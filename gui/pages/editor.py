"""The editor page: pipeline bar, block palette, node canvas, inspector and YAML side by side."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from builder.errors import CellwrightError
from gui.document import RecipeDocument
from gui.graph_editor.catalog import BlockInfo, expand_template, load_blocks
from gui.graph_editor.palette import Palette
from gui.graph_editor.scene import GraphScene
from gui.graph_editor.view import GraphView
from gui.inspector import STAGES, Inspector
from gui.yaml_view import YamlView


class EditorPage(QWidget):
    """Everything needed to edit a recipe; all edits go through ``doc.undo_stack``."""

    def __init__(self, doc: RecipeDocument, blocks: dict[str, BlockInfo] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.blocks = blocks if blocks is not None else load_blocks()
        self.scene = GraphScene(doc, self.blocks, self)
        self.view = GraphView(self.scene)
        self.palette = Palette(self.blocks)
        self.inspector = Inspector(doc, self.blocks, self.scene)
        self.yaml_view = YamlView(doc)
        self.collapsed_from: dict[str, Any] | None = None
        self.message = QLabel("")
        self.message.setObjectName("canvasMessage")
        self.message.setWordWrap(True)

        center = QWidget()
        column = QVBoxLayout(center)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self._pipeline_bar())
        column.addWidget(self._toolbar())
        column.addWidget(self.view, 1)
        column.addWidget(self.message)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.inspector)
        right.addWidget(self.yaml_view)
        right.setSizes([420, 380])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.palette)
        split.addWidget(center)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([230, 760, 400])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        self.palette.block_activated.connect(self.view.add_at_center)
        self.scene.node_selected.connect(self._on_node_selected)
        self.scene.connection_refused.connect(lambda text: self.show_message(text, error=True))
        self.inspector.expand_requested.connect(self.expand_template)
        doc.changed.connect(self._on_doc_changed)
        self._on_doc_changed("load")

    # ----------------------------------------------------------------- layout pieces
    def _pipeline_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("pipelineBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(2)
        self.stage_buttons = QButtonGroup(self)
        self.stage_buttons.setExclusive(True)
        for index, (key, title) in enumerate(STAGES):
            if index:
                arrow = QLabel("›")
                arrow.setObjectName("stageArrow")
                row.addWidget(arrow)
            button = QToolButton(text=title, checkable=True)  # "&&" shows one "&"
            button.setObjectName("stageButton")
            button.setToolTip(f"Edit the '{key}' part of the recipe")
            button.clicked.connect(lambda _=False, key=key: self.show_stage(key))
            self.stage_buttons.addButton(button, index)
            row.addWidget(button)
        row.addStretch(1)
        self.stage_buttons.button(0).setChecked(True)
        return bar

    def _toolbar(self) -> QToolBar:
        bar = QToolBar("Canvas")
        bar.setObjectName("canvasBar")
        self.actions_by_name: dict[str, QAction] = {}

        def add(name: str, text: str, slot, shortcut=None, tip: str = "") -> None:
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{tip or text} ({QKeySequence(shortcut).toString()})" if shortcut else tip or text)
            action.triggered.connect(slot)
            bar.addAction(action)
            self.addAction(action)
            self.actions_by_name[name] = action

        add("layout", "Auto-layout", self.scene.auto_layout, "Ctrl+L", "Arrange blocks from left to right")
        add("fit", "Fit", self.view.fit_all, "Ctrl+0", "Show all blocks")
        add("zoom_in", "Zoom +", lambda: self.view.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        add("zoom_out", "Zoom −", lambda: self.view.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
        bar.addSeparator()
        add("copy", "Copy", self.scene.copy_selected, QKeySequence.StandardKey.Copy)
        add("paste", "Paste", self.scene.paste, QKeySequence.StandardKey.Paste)
        add("delete", "Delete", self.scene.delete_selected, QKeySequence.StandardKey.Delete,
            "Delete the selected blocks or connections")
        bar.addSeparator()
        add("expand", "Expand template", self.expand_template, "Ctrl+E", "Show the template as editable blocks")
        add("collapse", "Collapse to template", self.collapse_template, "Ctrl+Shift+E",
            "Go back to the template the graph came from")
        add("search", "Find block", self.focus_search, QKeySequence.StandardKey.Find)
        for name in ("copy", "paste", "delete"):  # canvas-only: must not steal Ctrl+C from the YAML text
            self.view.addAction(self.actions_by_name[name])
            self.removeAction(self.actions_by_name[name])
            self.actions_by_name[name].setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        return bar

    # ----------------------------------------------------------------- behaviour
    def show_stage(self, key: str) -> None:
        self.scene.clearSelection()
        self.inspector.show_section(key)
        index = [k for k, _ in STAGES].index(key)
        self.stage_buttons.button(index).setChecked(True)

    def _on_node_selected(self, node_id: str) -> None:
        if node_id:
            self.inspector.show_node(node_id)
        elif self.inspector.current[0] == "node":
            self.inspector.show_section("model")

    def _on_doc_changed(self, origin: str) -> None:
        template_mode = self.doc.graph is None
        self.actions_by_name["expand"].setEnabled(template_mode)
        self.actions_by_name["collapse"].setEnabled(not template_mode and self.collapsed_from is not None)
        if template_mode:
            model = self.doc.data.get("model") or {}
            name = model.get("template", "unet") if isinstance(model, dict) else "unet"
            self.show_message(f"The model is the '{name}' template. Press 'Expand template' (Ctrl+E) to edit its "
                              "blocks, or drag blocks from the palette to start an empty graph.")
        elif not self.doc.graph:
            self.show_message("Drag blocks from the palette onto the canvas; drag from a right-side port to a "
                              "left-side port to connect them.")
        else:
            self.show_message("")
        if origin == "load":
            self.view.fit_all()

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setVisible(bool(text))

    def expand_template(self) -> None:
        """Replace the template by its graph of blocks (one undoable step)."""
        model = self.doc.data.get("model") if isinstance(self.doc.data.get("model"), dict) else {}
        if self.doc.graph is not None:
            return
        name, params = str(model.get("template") or "unet"), dict(model.get("params") or {})
        try:
            nodes = expand_template(name, params, self.doc.data)
        except CellwrightError as error:
            self.show_message(error.format(), error=True)
            return
        except Exception as error:
            self.show_message(f"The template '{name}' could not be expanded: {error}", error=True)
            return
        self.collapsed_from = {"template": name, "params": params}
        positions = self.scene.layout_positions(nodes)
        self.doc.apply(self.doc.with_graph(nodes), f"Expand template {name}", origin="graph", positions=positions)
        self.view.fit_all()

    def collapse_template(self) -> None:
        """Go back to the template the graph was expanded from (edits made to the graph are dropped)."""
        if self.collapsed_from is None or self.doc.graph is None:
            return
        data = dict(self.doc.data)
        model = {key: value for key, value in (data.get("model") or {}).items() if key != "graph"}
        model["template"] = self.collapsed_from["template"]
        if self.collapsed_from["params"]:
            model["params"] = self.collapsed_from["params"]
        data["model"] = model
        self.doc.apply(data, f"Collapse to template {model['template']}", origin="graph")

    def focus_search(self) -> None:
        self.palette.search.setFocus()
        self.palette.search.selectAll()

"""The editor page: section bar, block palette, canvas (pipeline stages + model blocks), inspector and YAML.

The canvas shows the pipeline as nodes (Data → Preprocess → Augment → Model → Post-process → Outputs);
the Model node opens into its blocks (or its one template node) and folds back (Ctrl+M). A template
expands into blocks (Ctrl+E) and collapses back (Ctrl+Shift+E) while the blocks are unedited.
"""

from __future__ import annotations

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
from gui.graph_editor.template_state import NO_TEMPLATE_MESSAGE, cannot_collapse_message, graph_changes
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
        self.scene.stage_selected.connect(self._on_stage_selected)
        self.scene.expand_template_requested.connect(self.expand_template)
        self.scene.model_open_changed.connect(self._on_model_open_changed)
        self.scene.connection_refused.connect(lambda text: self.show_message(text, error=True))
        self.scene.graph_problems_changed.connect(self._on_graph_problems)
        self.inspector.expand_requested.connect(self.expand_template)
        self.inspector.collapse_requested.connect(self.collapse_template)
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
            button.setToolTip(f"Edit the '{title.replace('&&', '&')}' part of the recipe")
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

        def add(name: str, text: str, slot, shortcut=None, tip: str = "", in_bar: bool = True) -> None:
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{tip or text} ({QKeySequence(shortcut).toString()})" if shortcut else tip or text)
            action.triggered.connect(slot)
            if in_bar:  # the rest are in the Edit menu and on their shortcuts
                bar.addAction(action)
            self.addAction(action)
            self.actions_by_name[name] = action

        add("layout", "Tidy layout", self.tidy_layout, "Ctrl+L",
            "Arrange the blocks compactly, left to right by depth, so that Fit shows the whole graph readably")
        add("fit", "Fit", self.view.fit_all, "Ctrl+0", "Show all blocks")
        add("zoom_in", "Zoom +", lambda: self.view.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn, in_bar=False)
        add("zoom_out", "Zoom −", lambda: self.view.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut, in_bar=False)
        bar.addSeparator()
        add("copy", "Copy", self.scene.copy_selected, QKeySequence.StandardKey.Copy, in_bar=False)
        add("paste", "Paste", self.scene.paste, QKeySequence.StandardKey.Paste, in_bar=False)
        add("delete", "Delete", self.scene.delete_selected, QKeySequence.StandardKey.Delete,
            "Delete the selected blocks or connections")
        bar.addSeparator()
        add("model", "Fold model", self.toggle_model, "Ctrl+M",
            "Fold the model into one pipeline node, or open it to show its blocks")
        add("expand", "Expand template", self.expand_template, "Ctrl+E", "Show the template as editable blocks")
        add("collapse", "Collapse to template", self.collapse_template, "Ctrl+Shift+E",
            "Go back to the template the graph came from (only while its blocks are unedited)")
        add("search", "Find block", self.focus_search, QKeySequence.StandardKey.Find)
        for name in ("copy", "paste", "delete"):  # canvas-only: must not steal Ctrl+C from the YAML text
            self.view.addAction(self.actions_by_name[name])
            self.removeAction(self.actions_by_name[name])
            self.actions_by_name[name].setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        return bar

    # ----------------------------------------------------------------- behaviour
    def show_stage(self, key: str) -> None:
        """Show recipe section ``key`` in the inspector (selecting its pipeline node when it has one)."""
        if not self.scene.select_stage(key):
            self.inspector.show_section(key)
            self._check_stage_button(key)

    def _on_stage_selected(self, key: str) -> None:
        self.inspector.show_section(key)
        self._check_stage_button(key)

    def _check_stage_button(self, key: str) -> None:
        keys = [k for k, _ in STAGES]
        if key in keys:
            self.stage_buttons.button(keys.index(key)).setChecked(True)

    def _on_node_selected(self, node_id: str) -> None:
        if node_id:
            self.inspector.show_node(node_id)
            self._check_stage_button("model")
        elif self.inspector.current[0] == "node":
            self.inspector.show_section("model")

    def toggle_model(self) -> None:
        self.scene.set_model_open(not self.scene.model_open)

    def _on_model_open_changed(self, open_: bool) -> None:
        self.actions_by_name["model"].setText("Fold model" if open_ else "Open model")
        self._on_doc_changed("view")
        self.view.fit_all()

    def _on_doc_changed(self, origin: str) -> None:
        template_mode = self.doc.graph is None
        self.actions_by_name["expand"].setEnabled(template_mode)
        self.actions_by_name["collapse"].setEnabled(not template_mode)
        if not self.scene.model_open:
            self.show_message("The model is folded into one node. Double-click it (or press Ctrl+M) to see its "
                              "blocks; click any stage to edit it.")
        elif template_mode:
            model = self.doc.data.get("model") or {}
            name = model.get("template", "unet") if isinstance(model, dict) else "unet"
            self.show_message(f"The model is the '{name}' template, shown as one node. Double-click it (or press "
                              "Ctrl+E) to expand it into editable blocks, or drag blocks from the palette to start "
                              "an empty graph.")
        elif not self.doc.graph:
            self.show_message("Drag blocks from the palette onto the canvas; drag from a right-side port to a "
                              "left-side port to connect them.")
        else:
            self._on_graph_problems(self.scene.problem_summary)
        if origin == "load":
            self.view.fit_all()

    def _on_graph_problems(self, summary: str) -> None:
        """The status line under the canvas shows the engine's problems of an explicit graph."""
        if self.scene.model_open and self.doc.graph:
            self.show_message(summary, error=bool(summary))

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setVisible(bool(text))

    def expand_template(self) -> None:
        """Replace the template node by the graph of blocks it stands for (one undoable step)."""
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
        self.doc.remember_template(name, params, nodes)
        if not self.scene.model_open:
            self.scene.model_open = True
        positions = self.scene.layout_positions(nodes, self.canvas_area())
        self.doc.apply(self.doc.with_graph(nodes), f"Expand template {name}", origin="graph", positions=positions)
        self._on_model_open_changed(True)

    def canvas_area(self) -> tuple[float, float]:
        """The canvas size in pixels the tidy layout aims at (a usual size while the page is not shown yet)."""
        size = self.view.viewport().size()
        if size.width() < 300 or size.height() < 200:
            return self.scene.layout_area
        return float(size.width()), float(size.height())

    def tidy_layout(self) -> None:
        """Arrange the blocks compactly for the canvas as it is now, then show them all (one undoable step)."""
        self.scene.auto_layout(self.canvas_area())
        self.view.fit_all()

    def collapse_template(self) -> bool:
        """Fold the graph back into its template node; refuses (and says why) when the blocks were edited."""
        nodes = self.doc.graph
        if nodes is None:
            return False
        origin = self.doc.template_origin(nodes)
        if origin is None:
            self.show_message(self._why_not_collapse(nodes), error=True)
            return False
        name, params = origin
        data = dict(self.doc.data)
        model = {key: value for key, value in (data.get("model") or {}).items() if key != "graph"}
        model["template"] = name
        if params:
            model["params"] = params
        data["model"] = model
        self.doc.apply(data, f"Collapse to template {name}", origin="graph")
        self.view.fit_all()
        return True

    def _why_not_collapse(self, nodes: list[dict]) -> str:
        """The plain reason a graph cannot fold back: it was edited (with the edits listed), or has no template."""
        if not self.doc.template_origins:
            return NO_TEMPLATE_MESSAGE
        name, params = list(self.doc.template_origins.values())[-1]
        try:
            original = expand_template(name, params, self.doc.data)
        except Exception:  # the recipe changed so much that the template no longer expands
            original = []
        return cannot_collapse_message(name, graph_changes(original, nodes) if original else [])

    def focus_search(self) -> None:
        self.palette.search.setFocus()
        self.palette.search.selectAll()

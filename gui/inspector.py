"""The inspector: a form for the selected block, or for the recipe section of the selected pipeline stage."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget

from builder.recipe.schema import Recipe
from gui import recipe_io
from gui.document import RecipeDocument
from gui.graph_editor import graph
from gui.graph_editor.catalog import BlockInfo, load_templates
from gui.pages.wizard import template_sentence
from gui.schema_form import SchemaForm, guard_wheel

#: Recipe sections in the bar above the canvas: (key, title). "outputs" is the report and export sections.
STAGES = (
    ("general", "Experiment"), ("data", "Data"), ("preprocess", "Preprocess"), ("augment", "Augment"),
    ("model", "Model"), ("train", "Train"), ("evaluate", "Post-process && evaluate"), ("outputs", "Outputs"),
)


@lru_cache(maxsize=1)
def recipe_schema() -> dict[str, Any]:
    return Recipe.model_json_schema()


class Inspector(QScrollArea):
    """Shows one form at a time; edits go to the document as undoable steps."""

    expand_requested = Signal()
    collapse_requested = Signal()

    def __init__(self, doc: RecipeDocument, blocks: dict[str, BlockInfo], scene=None, parent=None) -> None:
        super().__init__(parent)
        self.doc, self.blocks, self.scene = doc, blocks, scene
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.current: tuple[str, str] = ("section", "general")
        self.form: SchemaForm | None = None
        doc.changed.connect(self._on_doc_changed)
        self.show_section("general")

    def _on_doc_changed(self, origin: str) -> None:
        if origin != "inspector":
            self.refresh()

    def refresh(self) -> None:
        kind, name = self.current
        if kind == "node" and graph.find(self.doc.graph or [], name) is not None:
            self.show_node(name)
        else:
            self.show_section(name if kind == "section" else "model")

    def _page(self, title: str, subtitle: str = "") -> QVBoxLayout:
        page = QWidget()
        page.setObjectName("inspectorPage")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(10, 8, 10, 8)
        heading = QLabel(title)
        heading.setObjectName("panelTitle")
        layout.addWidget(heading)
        if subtitle:
            note = QLabel(subtitle)
            note.setWordWrap(True)
            note.setObjectName("hint")
            layout.addWidget(note)
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.setWidget(page)
        return layout

    # ----------------------------------------------------------------- recipe sections
    def show_section(self, name: str) -> None:
        self.current = ("section", name)
        schema = recipe_schema()
        if name == "general":
            layout = self._page("Experiment", "Name, description and task of this recipe.")
            sections = tuple(key for key in schema["properties"] if key not in ("name", "description", "task"))
            self.form = SchemaForm(schema, self.doc.data, self._set_root, schema, skip=sections)
        elif name == "model":
            self._show_model()
            return
        elif name == "outputs":
            self._show_outputs(schema)
            return
        else:
            prop = schema["properties"].get(name, {})
            layout = self._page(dict(STAGES).get(name, name).replace("&&", "&"), prop.get("description", ""))
            self.form = SchemaForm(prop, self.doc.data.get(name), self._set_root, schema, prefix=(name,))
        layout.addWidget(self.form)
        if name == "train":  # pre-training runs as the first step of training: set on the same page
            only = {"type": "object", "properties": {"pretrain": schema["properties"]["pretrain"]}}
            self.pretrain_form = SchemaForm(only, self.doc.data, self._set_root, schema)
            layout.addWidget(self.pretrain_form)

    def _show_outputs(self, schema: dict[str, Any]) -> None:
        """The report and export sections on one page (the Outputs stage of the pipeline)."""
        layout = self._page("Outputs", "What a finished run writes: the report, and the exported model formats.")
        for key, title in (("report", "Report"), ("export", "Export")):
            heading = QLabel(title)
            heading.setObjectName("panelTitle")
            layout.addWidget(heading)
            prop = schema["properties"].get(key, {})
            self.form = SchemaForm(prop, self.doc.data.get(key), self._set_root, schema, prefix=(key,))
            layout.addWidget(self.form)

    def _set_root(self, keys: tuple[str, ...], value: Any) -> None:
        self.doc.set_value(keys, value, origin="inspector")

    def _show_model(self) -> None:
        model = self.doc.data.get("model") if isinstance(self.doc.data.get("model"), dict) else {}
        if self.doc.graph is not None:
            layout = self._page("Model", f"An explicit graph of {len(self.doc.graph)} blocks. Select a block "
                                "on the canvas to edit it; drag blocks from the palette to add more.")
            if self.doc.template_origins:
                collapse = QPushButton("Collapse back into the template")
                collapse.setToolTip("Fold the blocks back into one template node (only while they are unedited).")
                collapse.clicked.connect(self.collapse_requested.emit)
                layout.addWidget(collapse)
            layout.addStretch(1)
            return
        templates = load_templates()
        layout = self._page("Model", "A template builds the network from a few settings. Expand it to see and "
                            "edit every block.")
        combo = QComboBox()
        guard_wheel(combo)
        combo.addItems(list(templates) or [str(model.get("template") or "unet")])
        combo.setCurrentText(str(model.get("template") or "unet"))
        combo.setToolTip("Architecture template")
        combo.currentTextChanged.connect(lambda text: self.doc.set_value(("model", "template"), text, "inspector"))
        layout.addWidget(QLabel("Template"))
        layout.addWidget(combo)
        info = templates.get(str(model.get("template")))
        if info is not None:
            about = QLabel(template_sentence(info.name))
            about.setWordWrap(True)
            about.setObjectName("hint")
            layout.addWidget(about)
            if info.params_model is not None:
                self.form = SchemaForm(info.params_model.model_json_schema(), model.get("params"),
                                       lambda keys, value: self.doc.set_value(("model", "params", *keys), value,
                                                                              "inspector"))
                layout.addWidget(self.form)
        expand = QPushButton("Expand into blocks")
        expand.setToolTip("Replace the template by the graph of blocks it stands for (undo brings it back).")
        expand.clicked.connect(self.expand_requested.emit)
        layout.addWidget(expand)
        layout.addStretch(1)

    # ----------------------------------------------------------------- one block
    def show_node(self, node_id: str) -> None:
        node = graph.find(self.doc.graph or [], node_id)
        if node is None:
            self.show_section("model")
            return
        self.current = ("node", node_id)
        info = self.blocks.get(str(node.get("block")))
        layout = self._page(f"{node_id}", f"{node.get('block')}: {info.doc if info else 'unknown block type'}")
        layout.addWidget(QLabel("Name (id)"))
        name = QLineEdit(node_id)
        name.setToolTip("Unique name of this block; it becomes the Keras layer name.")
        name.editingFinished.connect(lambda: self._rename(node_id, name.text()))
        layout.addWidget(name)
        if info is not None and info.params_model is not None:
            self.form = SchemaForm(info.params_model.model_json_schema(), node.get("params"),
                                   lambda keys, value: self._set_param(node_id, keys, value))
            layout.addWidget(self.form)
        else:
            layout.addStretch(1)

    def _set_param(self, node_id: str, keys: tuple[str, ...], value: Any) -> None:
        node = graph.find(self.doc.graph or [], node_id)
        if node is None:
            return
        params = recipe_io.set_path(dict(node.get("params") or {}), keys, value)
        if self.scene is not None:
            self.scene.set_node_params(node_id, params)

    def _rename(self, old: str, new: str) -> None:
        new = new.strip()
        if not new or new == old:
            return
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", new) or graph.find(self.doc.graph or [], new):
            self.doc.problems_changed.emit(self.doc.all_problems())
            return
        nodes = graph.rename_node(self.doc.graph or [], old, new)
        positions = {new: self.doc.positions.get(old, (0.0, 0.0))}
        self.current = ("node", new)
        self.doc.apply(self.doc.with_graph(nodes), f"Rename {old} to {new}", origin="graph", positions=positions)
        if self.scene is not None and new in self.scene.nodes:
            self.scene.clearSelection()
            self.scene.nodes[new].setSelected(True)

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(340)
        return hint


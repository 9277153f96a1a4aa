"""The editor scene: draws the pipeline and the document's graph, and turns mouse gestures into undoable edits.

Mouse gestures and tests call the same methods: :meth:`GraphScene.add_block` (drop from the palette),
:meth:`GraphScene.request_connection` (release a dragged port on another port), :meth:`delete_selected`,
:meth:`copy_selected`, :meth:`paste`, :meth:`auto_layout`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSimpleTextItem

from builder.graph_checks import GraphReport
from builder.graph_refs import split_ref
from gui.document import RecipeDocument
from gui.graph_editor import graph, problems
from gui.graph_editor.catalog import BlockInfo, load_blocks
from gui.graph_editor.items import EdgeItem, NodeItem, PortItem, curve, kind_color, node_height, port_counts
from gui.graph_editor.pipeline_layer import PipelineLayer
from gui.graph_editor.tidy import tidy_layout

MIME_BLOCK = "application/x-cellwright-block"


class GraphScene(QGraphicsScene):
    """Scene that mirrors the recipe: the pipeline stages, and (when the Model stage is open) ``doc.graph``.

    Every edit goes through the document's undo stack; opening or folding the Model stage is a view change.
    """

    connection_refused = Signal(str)
    node_selected = Signal(str)  # node id, or "" when nothing (or several) is selected
    stage_selected = Signal(str)  # recipe section of the selected pipeline stage ("data", "model", "outputs", ...)
    expand_template_requested = Signal()
    model_open_changed = Signal(bool)
    status = Signal(str)
    #: The engine's problems of the graph changed: one summary line ("" when there are none).
    graph_problems_changed = Signal(str)

    def __init__(self, doc: RecipeDocument, blocks: dict[str, BlockInfo] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.blocks = blocks if blocks is not None else load_blocks()
        self.nodes: dict[str, NodeItem] = {}
        self.edges: list[EdgeItem] = []
        self.clipboard: list[dict[str, Any]] = []
        self.last_refusal = ""
        self.kinds: dict[str, str] = {}
        self.report: GraphReport | None = None
        self.problem_summary = ""
        self._drag_port: PortItem | None = None
        self._drag_line: QGraphicsPathItem | None = None
        self._press_positions: dict[str, tuple[float, float]] = {}
        self._refusal_label: QGraphicsSimpleTextItem | None = None
        self.model_open = True
        #: Canvas size in pixels the tidy layout fits the graph into (the editor sets its view's size).
        self.layout_area: tuple[float, float] = (900.0, 680.0)
        self.pipeline = PipelineLayer(self)
        self.setSceneRect(QRectF(-2000, -2000, 6000, 4000))
        self.setBackgroundBrush(QColor("#f4f6f8"))
        self.selectionChanged.connect(self._on_selection)
        doc.changed.connect(self._on_doc_changed)
        self.sync()

    # ----------------------------------------------------------------- drawing from the document
    def _on_doc_changed(self, origin: str) -> None:
        self.sync()

    def sync(self) -> None:
        """Redraw every node and edge from the document (keeping the selection)."""
        selected = {item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)}
        stage = next(((type(item), key) for item in self.selectedItems() if (key := self.pipeline.key_of(item))), None)
        self.blockSignals(True)
        for item in list(self.nodes.values()) + self.edges:
            self.removeItem(item)
        self._clear_refusal()
        self.nodes, self.edges = {}, []
        nodes = (self.doc.graph or []) if self.model_open else []
        missing = [node["id"] for node in nodes if node.get("id") not in self.doc.positions]
        fallback = self.layout_positions(nodes) if missing else {}
        for node in nodes:
            item = NodeItem(node, self.blocks.get(node.get("block", "")))
            x, y = self.doc.positions.get(node["id"], fallback.get(node["id"], (0.0, 0.0)))
            item.setPos(x, y)
            self.addItem(item)
            self.nodes[item.node_id] = item
            item.setSelected(item.node_id in selected)
        self.report = problems.check(self.doc.data, nodes, self.doc.path)
        for node in nodes:
            for slot, ref in enumerate(node.get("inputs", [])):
                source, port = split_ref(ref)
                if source in self.nodes and node["id"] in self.nodes:
                    src = self.nodes[source]
                    out = src.output_port(port or problems.default_port(self.report, source))
                    kind = out.port.kind if out else "image"
                    edge = EdgeItem(src, self.nodes[node["id"]], slot, kind, source_slot=out.slot if out else 0,
                                    ref=str(ref))
                    self.addItem(edge)
                    self.edges.append(edge)
        origin = self.doc.template_origin()
        self.pipeline.draw(self.doc.data, self.doc.graph, self.nodes, self.model_open, origin[0] if origin else "")
        for item in self.pipeline.items:
            if stage is not None and (type(item), self.pipeline.key_of(item)) == stage:
                item.setSelected(True)
        self.blockSignals(False)
        self.refresh_checks(self.report)
        self._on_selection()

    # ----------------------------------------------------------------- pipeline stages
    def set_model_open(self, open_: bool) -> None:
        """Show the model's blocks inside the pipeline (``True``) or fold the model into one stage node."""
        if open_ == self.model_open:
            return
        self.model_open = open_
        self.clearSelection()
        self.sync()
        self.select_stage("model")
        self.model_open_changed.emit(open_)

    def select_stage(self, key: str) -> bool:
        """Select the canvas node of pipeline stage ``key``; ``False`` when the stage is not on the canvas."""
        item = self.pipeline.stages.get(key)
        self.clearSelection()
        if item is not None:
            item.setSelected(True)
        return item is not None

    def selected_stage(self) -> str:
        return next((key for item in self.selectedItems() if (key := self.pipeline.key_of(item))), "")

    def content_rect(self) -> QRectF | None:
        """Bounding box of everything drawn (blocks and pipeline)."""
        rect = self.pipeline.content_rect()
        for item in self.nodes.values():
            rect = item.sceneBoundingRect() if rect is None else rect.united(item.sceneBoundingRect())
        return rect

    def refresh_checks(self, report: GraphReport | None = None) -> None:
        """Show the engine's checks: tensor shapes on edges, problem marks and tooltips on nodes, a summary line.

        ``report`` is the check of the graph on the canvas when the caller has just made it.
        """
        nodes = (self.doc.graph or []) if self.model_open else []
        self.report = report = report or problems.check(self.doc.data, nodes, self.doc.path)
        self.kinds = problems.node_kinds(report)
        for node_id, item in self.nodes.items():
            item.set_problems(problems.node_texts(report, node_id))
        for edge in self.edges:
            edge.set_shape_text(problems.edge_shape(report, edge.ref))
            shape = report.shape_of(edge.ref)
            kind = problems.kind_of(shape) if shape is not None else edge.source_kind
            edge.setPen(QPen(kind_color(kind), 2.2))
        self.problem_summary = problems.summary(report) if nodes else ""
        self.graph_problems_changed.emit(self.problem_summary)

    # ----------------------------------------------------------------- edits (mouse and tests)
    def add_block(self, block: str, pos: QPointF | tuple[float, float] = (0.0, 0.0),
                  params: dict[str, Any] | None = None) -> str:
        """Add a block of type ``block`` at ``pos``; returns the new node id."""
        nodes, new_id = graph.add_node(self.doc.graph or [], block, params)
        if not self.model_open:  # blocks live inside the model: open it first
            self.model_open = True
            self.model_open_changed.emit(True)
        x, y = (pos.x(), pos.y()) if isinstance(pos, QPointF) else pos
        self.doc.apply(self.doc.with_graph(nodes), f"Add {block}", origin="graph", positions={new_id: (x, y)})
        self._select([new_id])
        return new_id

    def request_connection(self, source: str, target: str, slot: int, port: str = "") -> str | None:
        """Connect ``source`` (output ``port``; empty: its default output) to input ``slot`` of ``target``.

        Returns the refusal reason, or ``None``.
        """
        nodes = self.doc.graph or []
        reason = graph.connection_problem(nodes, self.blocks, source, target, slot, self.kinds)
        if reason:
            self.last_refusal = reason
            self._show_refusal(target, reason)
            self.connection_refused.emit(reason)
            return reason
        if port and self.report is not None and port == problems.default_port(self.report, source):
            port = ""  # the default output is written as the bare node id
        new = graph.connect(nodes, source, target, slot, self.blocks, port=port)
        self.doc.apply(self.doc.with_graph(new), f"Connect {source} → {target}", origin="graph")
        return None

    def connect_ports(self, start: PortItem, end: PortItem) -> str | None:
        """Connect two ports in either drag direction (output → input or input → output)."""
        if start.is_input == end.is_input:
            reason = "Connect an output (right side) to an input (left side)."
            self.last_refusal = reason
            self._show_refusal(end.node_id, reason)
            self.connection_refused.emit(reason)
            return reason
        out_port, in_port = (end, start) if start.is_input else (start, end)
        port = out_port.port.name if len(out_port.node.output_ports) > 1 else ""
        return self.request_connection(out_port.node_id, in_port.node_id, in_port.slot, port)

    def selected_ids(self) -> list[str]:
        return [item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)]

    def delete_selected(self) -> None:
        """Delete the selected nodes and edges."""
        ids = self.selected_ids()
        edges = [edge for edge in self.selectedItems() if isinstance(edge, EdgeItem)]
        if not ids and not edges:
            return
        nodes = self.doc.graph or []
        for edge in edges:
            nodes = graph.disconnect(nodes, edge.source.node_id, edge.target.node_id)
        nodes = graph.remove_nodes(nodes, ids)
        label = f"Delete {', '.join(ids)}" if ids else "Delete connection"
        self.doc.apply(self.doc.with_graph(nodes), label, origin="graph")

    def copy_selected(self) -> int:
        ids = set(self.selected_ids())
        self.clipboard = [dict(node) for node in self.doc.graph or [] if node["id"] in ids]
        self._clip_positions = {key: self.doc.positions.get(key, (0.0, 0.0)) for key in ids}
        return len(self.clipboard)

    def paste(self, offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Paste the copied nodes next to the originals; returns the new ids."""
        if not self.clipboard:
            return []
        nodes, renamed = graph.paste(self.doc.graph or [], self.clipboard)
        positions = {new: (self._clip_positions.get(old, (0.0, 0.0))[0] + offset[0],
                           self._clip_positions.get(old, (0.0, 0.0))[1] + offset[1]) for old, new in renamed.items()}
        self.doc.apply(self.doc.with_graph(nodes), f"Paste {len(renamed)} block(s)", origin="graph",
                       positions=positions)
        self._select(list(renamed.values()))
        return list(renamed.values())

    def layout_positions(self, nodes: list[dict[str, Any]], area: tuple[float, float] | None = None
                         ) -> dict[str, tuple[float, float]]:
        """Tidy positions for ``nodes``: layered by depth and wrapped into bands so that Fit shows the whole graph
        at a readable zoom in a canvas of ``area`` pixels (see :mod:`gui.graph_editor.tidy`)."""
        heights = {str(node["id"]): node_height(*port_counts(node, self.blocks.get(str(node.get("block", "")))))
                   for node in nodes}
        return tidy_layout(nodes, area or self.layout_area, heights)

    def auto_layout(self, area: tuple[float, float] | None = None) -> None:
        """"Tidy layout": arrange every block compactly (one undoable step; saved with the recipe's layout)."""
        if area is not None:
            self.layout_area = area
        self.doc.move_nodes(self.layout_positions(self.doc.graph or []), "Tidy layout")

    def set_node_params(self, node_id: str, params: dict[str, Any]) -> None:
        nodes = graph.set_params(self.doc.graph or [], node_id, params)
        self.doc.apply(self.doc.with_graph(nodes), f"Change {node_id}", origin="inspector",
                       merge_key=f"params:{node_id}")

    def _select(self, ids: list[str]) -> None:
        self.clearSelection()
        for node_id in ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    def _on_selection(self) -> None:
        ids = self.selected_ids()
        stage = self.selected_stage() if not ids else ""
        if stage:
            self.stage_selected.emit(stage)
        else:
            self.node_selected.emit(ids[0] if len(ids) == 1 else "")

    # ----------------------------------------------------------------- refusal message in place
    def _show_refusal(self, node_id: str, reason: str) -> None:
        self._clear_refusal()
        item = self.nodes.get(node_id)
        label = QGraphicsSimpleTextItem("✕ " + reason)
        label.setBrush(QColor("#c1121f"))
        label.setZValue(10)
        pos = item.scenePos() + QPointF(0, -22) if item else QPointF(0, 0)
        label.setPos(pos)
        self.addItem(label)
        self._refusal_label = label
        self.status.emit(reason)
        QTimer.singleShot(4000, self._clear_refusal)

    def _clear_refusal(self) -> None:
        if self._refusal_label is not None and self._refusal_label.scene() is self:
            self.removeItem(self._refusal_label)
        self._refusal_label = None

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event) -> None:
        item = self.itemAt(event.scenePos(), self.views()[0].transform() if self.views() else _identity())
        if isinstance(item, PortItem) and event.button() == Qt.MouseButton.LeftButton:
            self._drag_port = item
            self._drag_line = QGraphicsPathItem()
            self._drag_line.setPen(QPen(QColor("#495057"), 2, Qt.PenStyle.DashLine))
            self.addItem(self._drag_line)
            event.accept()
            return
        self._press_positions = {key: (n.pos().x(), n.pos().y()) for key, n in self.nodes.items()}
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._drag_port is not None and self._drag_line is not None:
            start = self._drag_port.scenePos()
            end = event.scenePos()
            self._drag_line.setPath(curve(end, start) if self._drag_port.is_input else curve(start, end))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._drag_port is not None:
            start, self._drag_port = self._drag_port, None
            if self._drag_line is not None:
                self.removeItem(self._drag_line)
                self._drag_line = None
            views = self.views()
            under = [i for i in self.items(event.scenePos()) if isinstance(i, PortItem)]
            target = under[0] if under else None
            if target is None and views:
                near = self.itemAt(event.scenePos(), views[0].transform())
                if isinstance(near, NodeItem) and near.node_id != start.node_id:
                    target = self._free_port(near, want_input=not start.is_input)
            if target is not None and target is not start:
                self.connect_ports(start, target)
            return
        super().mouseReleaseEvent(event)
        moved = {key: (n.pos().x(), n.pos().y()) for key, n in self.nodes.items()
                 if self._press_positions.get(key) not in (None, (n.pos().x(), n.pos().y()))}
        if moved:
            self.doc.move_nodes(moved)
        self._press_positions = {}

    def _free_port(self, node: NodeItem, want_input: bool) -> PortItem | None:
        """Port of ``node`` that a drop on its body means: the first free input, or the output."""
        if not want_input:
            return node.output_ports[0] if node.output_ports else None
        record = graph.find(self.doc.graph or [], node.node_id) or {}
        used = len(record.get("inputs", []))
        return node.input_port(used) if node.input_ports else None


def _identity():
    from PySide6.QtGui import QTransform

    return QTransform()

"""Places the pipeline stages around the model on the canvas (the scene calls :meth:`PipelineLayer.draw`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from builder.graph_refs import source_of
from gui.graph_editor.catalog import load_templates
from gui.graph_editor.graph import upstream
from gui.graph_editor.items import NodeItem
from gui.graph_editor.pipeline import (
    FRAME_HEADER,
    FRAME_MARGIN,
    PIPELINE,
    STAGE_GAP,
    STAGE_HEIGHT,
    STAGE_VGAP,
    STAGE_WIDTH,
    ModelFrameItem,
    StageItem,
    TemplateItem,
    flow_edge,
    stage_summary,
)
from gui.graph_editor.template_state import key_params

PipelineItem = StageItem | ModelFrameItem | TemplateItem


@lru_cache(maxsize=32)
def _template_schema(name: str) -> tuple[dict[str, Any], str]:
    info = load_templates().get(name)
    if info is None:
        return {}, "unknown template"
    schema = info.params_model.model_json_schema() if info.params_model is not None else {}
    return schema, info.summary


def template_view(data: dict[str, Any]) -> tuple[str, list[str], str]:
    """``(name, key parameter texts, summary)`` of the recipe's template."""
    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    name = str(model.get("template") or "unet")
    params = model.get("params") if isinstance(model.get("params"), dict) else {}
    schema, summary = _template_schema(name)
    return name, key_params(params, schema), summary


class PipelineLayer:
    """The stage nodes, the open-model frame, the template node and the arrows between them."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.scene = scene
        self.items: list[QGraphicsItem] = []
        self.stages: dict[str, PipelineItem] = {}  # "model" is the stage node, the frame, or the template node
        self.frame: ModelFrameItem | None = None
        self.template: TemplateItem | None = None

    def clear(self) -> None:
        for item in self.items:
            if item.scene() is self.scene:
                self.scene.removeItem(item)
        self.items, self.stages, self.frame, self.template = [], {}, None, None

    def _add(self, item: QGraphicsItem) -> QGraphicsItem:
        self.scene.addItem(item)
        self.items.append(item)
        return item

    def draw(self, data: dict[str, Any], graph: list[dict[str, Any]] | None, nodes: dict[str, NodeItem],
             model_open: bool, origin: str = "") -> None:
        """Draw the row; when ``model_open`` the Model stage is a frame around ``nodes`` (or the template).

        ``origin`` names the template an unedited expanded graph came from (shown in the frame title).
        """
        self.clear()
        if graph is None:
            name, params_text, summary = template_view(data)
            model_text = f"{name} template\n{', '.join(params_text[:2])}"
        else:
            model_text = f"graph of {len(graph)} block{'s' * (len(graph) != 1)}"
            if origin:
                model_text += f"\nexpanded {origin} template"
        summaries = {key: stage_summary(key, data, model_text) for key, _, _ in PIPELINE}
        if not model_open:
            previous, x = None, 0.0
            for key, title, about in PIPELINE:
                stage = self._stage(key, title, about, summaries[key], QPointF(x, 0))
                x += stage.width + STAGE_GAP
                if previous is not None:
                    self._add(flow_edge(previous.out_point(), stage.in_point()))
                previous = stage
            return
        in_y, out_y, inner_in, inner_out = self._model_body(graph, nodes, data)
        body = self.template.sceneBoundingRect() if self.template is not None else _union(nodes.values())
        if body is None:
            body = QRectF(0, 0, 380, 130)
        frame_rect = body.adjusted(-FRAME_MARGIN, -FRAME_MARGIN - FRAME_HEADER, FRAME_MARGIN, FRAME_MARGIN)
        if graph is None:
            title = "Model: one template node"
        elif graph:
            title = f"Model: {model_text.replace(chr(10), ', ')}"
        else:
            title = "Model: empty (drag blocks here)"
        self.frame = self._add(ModelFrameItem(frame_rect, title))
        self.stages["model"] = self.template or self.frame
        # Stacked columns beside the frame keep the model wide on screen: Data ↓ Preprocess ↓ Augment → Model.
        step = STAGE_HEIGHT + STAGE_VGAP
        for index, (key, title, about) in enumerate(reversed(PIPELINE[:3])):
            pos = QPointF(frame_rect.left() - STAGE_GAP - STAGE_WIDTH, in_y - STAGE_HEIGHT / 2 - index * step)
            self._stage(key, title, about, summaries[key], pos).side_dots = (False, key == "augment")
        for index, (key, title, about) in enumerate(PIPELINE[4:]):
            pos = QPointF(frame_rect.right() + STAGE_GAP, out_y - STAGE_HEIGHT / 2 + index * step)
            self._stage(key, title, about, summaries[key], pos).side_dots = (key == "evaluate", False)
        for upper, lower in (("data", "preprocess"), ("preprocess", "augment"), ("evaluate", "outputs")):
            self._add(flow_edge(self.stages[upper].bottom_point(), self.stages[lower].top_point(), down=True))
        self._add(flow_edge(self.stages["augment"].out_point(), self.frame.in_point(in_y)))
        self._add(flow_edge(self.frame.out_point(out_y), self.stages["evaluate"].in_point()))
        if inner_in is not None:
            self._add(flow_edge(self.frame.in_point(in_y), inner_in, dashed=True))
        if inner_out is not None:
            self._add(flow_edge(inner_out, self.frame.out_point(out_y), dashed=True))

    def _stage(self, key: str, title: str, about: str, summary: str, pos: QPointF) -> StageItem:
        item = StageItem(key, title, about, summary)
        item.setPos(pos)
        self._add(item)
        self.stages[key] = item
        return item

    def _model_body(self, graph: list[dict[str, Any]] | None, nodes: dict[str, NodeItem], data: dict[str, Any]
                    ) -> tuple[float, float, QPointF | None, QPointF | None]:
        """Where the data enters and leaves the open model: ``(in_y, out_y, inner entry, inner exit)``."""
        if graph is None:
            name, params_text, summary = template_view(data)
            self.template = self._add(TemplateItem(name, params_text, summary))
            self.template.setPos(0, 0)
            start, end = self.template.in_point(), self.template.out_point()
            return start.y(), end.y(), start, end
        if not nodes:
            return 65.0, 65.0, None, None
        records = [node for node in graph if node.get("id") in nodes]
        first = next((node for node in records if node.get("block") == "input"), records[0])
        fed = {source_of(ref) for node in records for ref in node.get("inputs", [])}
        sinks = [node for node in records if node["id"] not in fed and node is not first]
        # the model's output: the unfed block with the longest history (not a stray block added last)
        last = max(sinks, key=lambda node: len(upstream(records, node["id"]))) if sinks else records[-1]
        first_item, last_item = nodes[first["id"]], nodes[last["id"]]
        entry = first_item.input_ports[0] if first_item.input_ports else first_item.output_ports[0]
        entry_point = QPointF(first_item.scenePos().x(), entry.scenePos().y())
        exit_point = last_item.output_ports[0].scenePos() if last_item.output_ports else last_item.scenePos()
        return entry_point.y(), exit_point.y(), entry_point, exit_point

    def content_rect(self) -> QRectF | None:
        return _union(self.items)

    def key_of(self, item: QGraphicsItem) -> str | None:
        """The stage an item stands for (``None`` for model blocks, arrows and anything else)."""
        return getattr(item, "key", None) if isinstance(item, (StageItem, ModelFrameItem, TemplateItem)) else None


def _union(items) -> QRectF | None:
    rect = None
    for item in items:
        box = item.sceneBoundingRect()
        rect = box if rect is None else rect.united(box)
    return rect

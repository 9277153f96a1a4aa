"""The pipeline row on the canvas: Data → Preprocess → Augment → Model → Post-process → Outputs.

Each stage is a node (:class:`StageItem`) that opens its recipe section in the inspector. The Model
stage is either one node, or "open": a frame (:class:`ModelFrameItem`) around the model's blocks, or
around a single :class:`TemplateItem` when the recipe uses ``template:``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

#: (recipe section shown in the inspector, node title, what the stage does)
PIPELINE = (
    ("data", "Data", "Where the images (and masks, labels or targets) are."),
    ("preprocess", "Preprocess", "Normalisation, image size and patches."),
    ("augment", "Augment", "Random flips, rotations and intensity changes while training."),
    ("model", "Model", "The network: a template or a graph of blocks."),
    ("evaluate", "Post-process", "Thresholds that turn predictions into masks, and how results are scored."),
    ("outputs", "Outputs", "The report and the exported model formats."),
)
STAGE_WIDTH, STAGE_HEIGHT, STAGE_GAP, STAGE_VGAP = 130.0, 62.0, 36.0, 30.0
MODEL_STAGE_WIDTH = 176.0
TEMPLATE_WIDTH = 230.0
FRAME_MARGIN, FRAME_HEADER = 36.0, 30.0
STAGE_COLOR = QColor("#52606d")
MODEL_COLOR = QColor("#264653")


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def stage_summary(key: str, data: dict[str, Any], model_text: str = "") -> str:
    """One short line describing what the recipe says for stage ``key``."""
    if key == "data":
        section = _section(data, "data")
        root = section.get("root") or "?"
        return f"{section.get('layout', 'folders')} in {root}/"
    if key == "preprocess":
        section = _section(data, "preprocess")
        patch = section.get("patch") if isinstance(section.get("patch"), dict) else {}
        parts = [f"patches {patch['size']} px"] if patch.get("size") else []
        if section.get("image_size"):
            parts.append(f"size {section['image_size']} px")
        norm = section.get("normalize")
        if isinstance(norm, dict) and norm.get("method"):
            parts.append(str(norm["method"]))
        return ", ".join(parts) or "defaults"
    if key == "augment":
        section = _section(data, "augment")
        on = [name for name, value in section.items() if value not in (None, False, 0, {}, [])]
        return ", ".join(on) if on else "none"
    if key == "model":
        return model_text
    if key == "evaluate":
        post = _section(_section(data, "evaluate"), "postprocess")
        parts = [f"threshold {post['threshold']}"] if "threshold" in post else []
        parts.append("tuned" if post.get("tune", True) else "fixed")
        return ", ".join(parts)
    if key == "outputs":
        report = _section(data, "report")
        formats = _section(data, "export").get("formats")
        parts = ["report"] if report.get("enabled", True) else []
        parts += [str(name) for name in formats] if isinstance(formats, list) else ["bundle"]
        return ", ".join(parts) or "nothing"
    return ""


def _draw_card(painter: QPainter, rect: QRectF, title: str, lines: list[str], accent: QColor, selected: bool,
               marker: str = "") -> None:
    """A white rounded card with a coloured title band (the look of every pipeline node)."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#1d3557") if selected else QColor("#9aa5b1"), 2.5 if selected else 1.0))
    painter.setBrush(QBrush(QColor("#ffffff")))
    painter.drawRoundedRect(rect, 8, 8)
    band = QPainterPath()
    band.setFillRule(Qt.FillRule.WindingFill)
    band.addRoundedRect(QRectF(rect.left(), rect.top(), rect.width(), 24), 8, 8)
    band.addRect(QRectF(rect.left(), rect.top() + 12, rect.width(), 12))
    painter.fillPath(band, accent)
    font = QFont(painter.font())
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(rect.left() + 10, rect.top(), rect.width() - 20, 24), Qt.AlignmentFlag.AlignVCenter,
                     title)
    if marker:
        painter.drawText(QRectF(rect.left() + 10, rect.top(), rect.width() - 20, 24),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, marker)
    font.setBold(False)
    font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
    painter.setFont(font)
    painter.setPen(QColor("#3e4c59"))
    for index, line in enumerate(lines):
        box = QRectF(rect.left() + 10, rect.top() + 27 + index * 17, rect.width() - 20, 17)
        text = painter.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, int(box.width()))
        painter.drawText(box, Qt.AlignmentFlag.AlignVCenter, text)


class StageItem(QGraphicsItem):
    """One pipeline stage; selecting it shows its recipe section, double-click opens the Model stage."""

    def __init__(self, key: str, title: str, about: str, summary: str) -> None:
        super().__init__()
        self.key, self.title, self.summary = key, title, summary
        self.width = MODEL_STAGE_WIDTH if key == "model" else STAGE_WIDTH
        self.side_dots = (key != "data", key != "outputs")  # where arrows attach on the left and right
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        hint = "\nDouble-click to show its blocks." if key == "model" else ""
        self.setToolTip(f"{title}: {about}\n{summary}\nClick to edit it in the inspector.{hint}")

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, self.width + 4, STAGE_HEIGHT + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        accent = MODEL_COLOR if self.key == "model" else STAGE_COLOR
        _draw_card(painter, QRectF(0, 0, self.width, STAGE_HEIGHT), self.title, self.summary.split("\n")[:2],
                   accent, self.isSelected(), "▸" if self.key == "model" else "")
        _draw_port_dots(painter, QPointF(0, STAGE_HEIGHT / 2), QPointF(self.width, STAGE_HEIGHT / 2),
                        *self.side_dots)

    def in_point(self) -> QPointF:
        return self.mapToScene(QPointF(0, STAGE_HEIGHT / 2))

    def out_point(self) -> QPointF:
        return self.mapToScene(QPointF(self.width, STAGE_HEIGHT / 2))

    def top_point(self) -> QPointF:
        return self.mapToScene(QPointF(self.width / 2, 0))

    def bottom_point(self) -> QPointF:
        return self.mapToScene(QPointF(self.width / 2, STAGE_HEIGHT))

    def mouseDoubleClickEvent(self, event) -> None:
        scene = self.scene()
        if self.key == "model" and hasattr(scene, "set_model_open"):
            scene.set_model_open(True)
            return
        super().mouseDoubleClickEvent(event)


def _draw_port_dots(painter: QPainter, left_at: QPointF, right_at: QPointF, left: bool, right: bool) -> None:
    painter.setPen(QPen(QColor("white"), 1.5))
    painter.setBrush(QBrush(QColor("#7b8794")))
    for show, point in ((left, left_at), (right, right_at)):
        if show:
            painter.drawEllipse(point, 5.0, 5.0)


class TemplateItem(QGraphicsItem):
    """The whole model as one node: the template's name and its key parameters. Double-click expands it."""

    key = "model"

    def __init__(self, name: str, params_text: list[str], summary: str) -> None:
        super().__init__()
        self.name, self.params_text = name, params_text
        self._height = 30.0 + 17.0 * max(1, len(params_text)) + 8
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Template '{name}': {summary}\n" + "\n".join(params_text)
                        + "\nDouble-click (or Ctrl+E) to expand it into editable blocks.")

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, TEMPLATE_WIDTH + 4, self._height + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        rect = QRectF(0, 0, TEMPLATE_WIDTH, self._height)
        _draw_card(painter, rect, f"{self.name} template", self.params_text or ["default settings"],
                   QColor("#495057"), self.isSelected(), "⊞")
        _draw_port_dots(painter, QPointF(0, self._height / 2), QPointF(TEMPLATE_WIDTH, self._height / 2), True, True)

    def in_point(self) -> QPointF:
        return self.mapToScene(QPointF(0, self._height / 2))

    def out_point(self) -> QPointF:
        return self.mapToScene(QPointF(TEMPLATE_WIDTH, self._height / 2))

    def mouseDoubleClickEvent(self, event) -> None:
        scene = self.scene()
        if hasattr(scene, "expand_template_requested"):
            scene.expand_template_requested.emit()
            return
        super().mouseDoubleClickEvent(event)


class ModelFrameItem(QGraphicsItem):
    """The open Model stage: a frame around its blocks. Its title bar selects it; double-click closes it."""

    key = "model"

    def __init__(self, rect: QRectF, title: str) -> None:
        super().__init__()
        self.rect, self.title = rect, title
        self.setZValue(-3)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setToolTip("The model stage, opened to show its blocks.\nDouble-click the title bar to fold it back "
                        "into one node (Ctrl+M).")

    def header(self) -> QRectF:
        return QRectF(self.rect.left(), self.rect.top(), self.rect.width(), FRAME_HEADER)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-3, -3, 3, 3)

    def shape(self) -> QPainterPath:
        path = QPainterPath()  # only the title bar takes clicks: the inside stays free for rubber-band selection
        path.addRect(self.header())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("#1d3557") if self.isSelected() else MODEL_COLOR, 2.5 if self.isSelected() else 1.5,
                   Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QBrush(QColor(38, 70, 83, 14)))
        painter.drawRoundedRect(self.rect, 12, 12)
        band = QPainterPath()
        band.setFillRule(Qt.FillRule.WindingFill)
        band.addRoundedRect(self.header(), 12, 12)
        band.addRect(self.header().adjusted(0, FRAME_HEADER / 2, 0, 0))
        painter.fillPath(band, MODEL_COLOR)
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        text_box = self.header().adjusted(12, 0, -12, 0)
        painter.drawText(text_box, Qt.AlignmentFlag.AlignVCenter, self.title)
        font.setBold(False)
        painter.setFont(font)
        painter.drawText(text_box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, "▾ fold")

    def in_point(self, y: float) -> QPointF:
        return QPointF(self.rect.left(), y)

    def out_point(self, y: float) -> QPointF:
        return QPointF(self.rect.right(), y)

    def mouseDoubleClickEvent(self, event) -> None:
        scene = self.scene()
        if hasattr(scene, "set_model_open"):
            scene.set_model_open(False)
            return
        super().mouseDoubleClickEvent(event)


def flow_edge(start: QPointF, end: QPointF, dashed: bool = False, down: bool = False) -> QGraphicsPathItem:
    """A grey arrow between pipeline stages, left to right (or top to bottom); not selectable."""
    path = QPainterPath(start)
    if down:
        path.lineTo(end)
        barbs = (QPointF(-5, -9), QPointF(5, -9))
    else:
        dx = max(20.0, abs(end.x() - start.x()) / 2)
        path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
        barbs = (QPointF(-9, -5), QPointF(-9, 5))
    head = QPainterPath()
    for barb in barbs:
        head.moveTo(end)
        head.lineTo(end + barb)
    path.addPath(head)
    item = QGraphicsPathItem(path)
    item.setPen(QPen(QColor("#7b8794"), 2.0, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine))
    item.setZValue(-2)
    return item

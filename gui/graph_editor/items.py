"""Graphics items of the node editor: a block (node), its typed ports, and the edges between them."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gui.graph_editor.catalog import BlockInfo, PortInfo

#: Colours of the tensor kinds (ports and edges), chosen to stay apart for colour-blind users.
KIND_COLORS = {"image": QColor("#2f6fdf"), "vector": QColor("#e08a00")}
CATEGORY_COLORS = {
    "Input": "#5b8c5a", "Convolution": "#3d6fb6", "Pooling": "#6a5acd", "Normalization": "#8a6d3b",
    "Regularization": "#9c6b98", "Merge": "#2a9d8f", "Dense": "#e76f51", "Composite": "#264653",
    "Backbone": "#7b2cbf", "Head": "#c1121f", "Template": "#495057",
}
NODE_WIDTH, HEADER, ROW = 180.0, 26.0, 20.0
PORT_RADIUS = 6.0
#: How far a routed connection runs beside a block before turning (half the tidy layout's column gap).
LANE_MARGIN = 22.0


def kind_color(kind: str) -> QColor:
    return KIND_COLORS.get(kind, QColor("#777777"))


class PortItem(QGraphicsEllipseItem):
    """A connector on the left (input ``slot``) or right (output) side of a node."""

    def __init__(self, node: NodeItem, port: PortInfo, is_input: bool, slot: int) -> None:
        r = PORT_RADIUS
        super().__init__(-r, -r, 2 * r, 2 * r, node)
        self.node, self.port, self.is_input, self.slot = node, port, is_input, slot
        self.setBrush(QBrush(kind_color(port.kind)))
        self.setPen(QPen(QColor("white"), 1.5))
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        direction = "input" if is_input else "output"
        extra = " (takes any number of inputs)" if port.variadic else ""
        self.setToolTip(f"{direction} '{port.name}': {port.kind}{extra}\nDrag to another port to connect.")

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def hoverEnterEvent(self, event) -> None:
        self.setScale(1.4)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self.setScale(1.0)
        super().hoverLeaveEvent(event)


def node_height(inputs: int, outputs: int) -> float:
    """Height of a block drawn with ``inputs`` and ``outputs`` ports (one row per port)."""
    return HEADER + max(inputs, outputs, 1) * ROW + 8


def port_counts(node: dict, info: BlockInfo | None) -> tuple[int, int]:
    """How many input and output ports ``node`` is drawn with (variadic blocks: one free input more)."""
    inputs = len(info.inputs) if info else 1
    if info and info.variadic:
        inputs = len(node.get("inputs", [])) + 1
    return inputs, len(info.outputs) if info else 1


class NodeItem(QGraphicsItem):
    """One block of the graph: id, block type, ports, and a red mark when it has problems."""

    def __init__(self, node: dict, info: BlockInfo | None) -> None:
        super().__init__()
        self.node_id: str = str(node["id"])
        self.block: str = str(node.get("block", "?"))
        self.info = info
        self.problems: list[str] = []
        self.connected_inputs = len(node.get("inputs", []))
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.input_ports: list[PortItem] = []
        self.output_ports: list[PortItem] = []
        inputs = list(info.inputs) if info else [PortInfo("input", "image")]
        if info and info.variadic:
            inputs = [inputs[0]] * (self.connected_inputs + 1)
        outputs = list(info.outputs) if info else [PortInfo("output", "image")]
        self._height = node_height(len(inputs), len(outputs))
        for slot, port in enumerate(inputs):
            item = PortItem(self, port, True, slot)
            item.setPos(0, HEADER + slot * ROW + ROW / 2 + 4)
            self.input_ports.append(item)
        for slot, port in enumerate(outputs):
            item = PortItem(self, port, False, slot)
            item.setPos(NODE_WIDTH, HEADER + slot * ROW + ROW / 2 + 4)
            self.output_ports.append(item)
        self.edges: list[EdgeItem] = []
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        lines = [f"{self.node_id} ({self.block})"]
        if self.info:
            lines.append(self.info.summary)
        else:
            lines.append(f"Unknown block type '{self.block}'.")
        lines += [f"⚠ {text}" for text in self.problems]
        self.setToolTip("\n".join(lines))

    def set_problems(self, problems: list[str]) -> None:
        self.problems = list(problems)
        self._update_tooltip()
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, NODE_WIDTH + 4, self._height + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        rect = QRectF(0, 0, NODE_WIDTH, self._height)
        category = self.info.category if self.info else "Unknown"
        accent = QColor(CATEGORY_COLORS.get(category, "#6c757d"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QColor("#d62828") if self.problems else (QColor("#1d3557") if self.isSelected() else QColor("#adb5bd"))
        painter.setPen(QPen(border, 2.5 if (self.problems or self.isSelected()) else 1.0))
        painter.setBrush(QBrush(QColor("#ffffff")))
        painter.drawRoundedRect(rect, 7, 7)
        header = QPainterPath()
        header.setFillRule(Qt.FillRule.WindingFill)  # the two shapes overlap: fill their union
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER), 7, 7)
        header.addRect(QRectF(0, HEADER / 2, NODE_WIDTH, HEADER / 2))
        painter.fillPath(header, accent)
        painter.setPen(QColor("white"))
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        title = painter.fontMetrics().elidedText(self.node_id, Qt.TextElideMode.ElideRight, int(NODE_WIDTH - 30))
        painter.drawText(QRectF(8, 0, NODE_WIDTH - 16, HEADER), Qt.AlignmentFlag.AlignVCenter, title)
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(QColor("#495057"))
        body = QRectF(12, HEADER + 2, NODE_WIDTH - 24, ROW)
        block = painter.fontMetrics().elidedText(self.block, Qt.TextElideMode.ElideMiddle, int(body.width()))
        painter.drawText(body, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignHCenter, block)
        if self.problems:
            painter.setBrush(QColor("#d62828"))
            painter.setPen(Qt.PenStyle.NoPen)
            badge = QRectF(NODE_WIDTH - 22, 5, 16, 16)
            painter.drawEllipse(badge)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)

    def output_port(self, name: str) -> PortItem | None:
        """The output port called ``name`` (the first output when no port has that name)."""
        named = [port for port in self.output_ports if port.port.name == name]
        return named[0] if named else (self.output_ports[0] if self.output_ports else None)

    def input_port(self, slot: int) -> PortItem | None:
        if not self.input_ports:
            return None
        return self.input_ports[min(slot, len(self.input_ports) - 1)]


class EdgeItem(QGraphicsPathItem):
    """A connection from a node's output to another node's input, labelled with the tensor shape."""

    def __init__(self, source: NodeItem, target: NodeItem, slot: int, kind: str = "image", *,
                 source_slot: int = 0, ref: str = "") -> None:
        super().__init__()
        self.source, self.target, self.slot = source, target, slot
        self.source_slot = source_slot
        self.source_kind = kind
        #: The input reference this edge stands for: ``node`` or ``node.port``.
        self.ref = ref or source.node_id
        self.setZValue(-1)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setPen(QPen(kind_color(kind), 2.2))
        self.label = QGraphicsSimpleTextItem("", self)
        self.label.setBrush(QColor("#343a40"))
        small = QFont()
        small.setPointSizeF(7.5)
        self.label.setFont(small)
        source.edges.append(self)
        target.edges.append(self)
        self.update_path()

    def set_shape_text(self, text: str) -> None:
        self.label.setText(text)
        self.setToolTip(f"{self.ref} → {self.target.node_id}" + (f"\nshape: {text}" if text else ""))
        self.update_path()

    def update_path(self) -> None:
        outputs = self.source.output_ports
        start = outputs[min(self.source_slot, len(outputs) - 1)].scenePos() if outputs else self.source.scenePos()
        port = self.target.input_port(self.slot)
        end = port.scenePos() if port else self.target.scenePos()
        if end.x() < start.x() + 2 * LANE_MARGIN:  # back to the left (next band, long skip): route through gaps
            lane = self.target.sceneBoundingRect().top() - LANE_MARGIN - 6 * min(self.slot, 3)
            self.setPath(routed(start, end, lane))
        else:
            self.setPath(curve(start, end))
        middle = self.path().pointAtPercent(0.5)
        bounds = self.label.boundingRect()
        y = middle.y() - bounds.height() - 2
        if abs(end.x() - start.x()) < bounds.width() + 16:  # too short: lift the label above both nodes
            top = min(self.source.sceneBoundingRect().top(), self.target.sceneBoundingRect().top())
            y = min(y, top - bounds.height() - 2)
        self.label.setPos(middle.x() - bounds.width() / 2, y)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pen = QPen(self.pen())
        if self.isSelected():
            pen.setWidthF(4.0)
            pen.setColor(QColor("#1d3557"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.drawPath(self.path())


def routed(start: QPointF, end: QPointF, lane_y: float, radius: float = 8.0) -> QPainterPath:
    """A path for a connection that goes back to the left: out of the output to the right, down (or up) the gap
    beside the source column, along the horizontal lane ``lane_y`` (the gap above the target), down the gap
    before the target column and into the input. Corners are rounded."""
    right, left = start.x() + LANE_MARGIN, end.x() - LANE_MARGIN
    points = [start, QPointF(right, start.y()), QPointF(right, lane_y), QPointF(left, lane_y),
              QPointF(left, end.y()), end]
    path = QPainterPath(points[0])
    for before, corner, after in zip(points, points[1:], points[2:], strict=False):
        path.lineTo(_towards(corner, before, radius))
        path.quadTo(corner, _towards(corner, after, radius))
    path.lineTo(points[-1])
    return path


def _towards(corner: QPointF, other: QPointF, radius: float) -> QPointF:
    """The point ``radius`` away from ``corner`` in the direction of ``other`` (or ``corner`` when closer)."""
    dx, dy = other.x() - corner.x(), other.y() - corner.y()
    length = (dx * dx + dy * dy) ** 0.5
    if length <= 2 * radius:
        return QPointF(corner.x() + dx / 2, corner.y() + dy / 2)
    return QPointF(corner.x() + dx * radius / length, corner.y() + dy * radius / length)


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    """A smooth S-shaped path from an output (left) to an input (right)."""
    path = QPainterPath(start)
    dx = max(40.0, abs(end.x() - start.x()) / 2)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path

"""Painting tools: the viewer hands them mouse events in image coordinates (see ``ImageViewer.tool``).

Every tool: the right button picks the object under the cursor as the active one. Points given to the
engine are ``(row, col)`` with pixel centres on integers (the viewer's image coordinates minus half a pixel).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF

from builder.annotation import edits
from gui.annotation.session import LabelSession
from gui.viewer.render import outlines


def to_pixel(point: QPointF) -> tuple[float, float]:
    """(row, col) of an image point for the engine's edit functions."""
    return point.y() - 0.5, point.x() - 0.5


class Tool:
    """Base: right-click picks the object under the cursor; subclasses use the left button."""

    name = "tool"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, session: LabelSession) -> None:
        self.session = session
        self.hover: QPointF | None = None

    @property
    def viewer(self):
        return self.session.viewer

    def object_at(self, point: QPointF) -> int:
        row, col = (int(math.floor(v)) for v in (point.y(), point.x()))
        return self.session.layer.value_at(row, col)

    def press(self, point: QPointF, event) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self.session.set_active(self.object_at(point))
        else:
            self.left_press(point, event)

    def move(self, point: QPointF, event) -> None:
        self.hover = point
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.left_drag(point, event)

    def release(self, point: QPointF, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.left_release(point, event)

    def double_click(self, point: QPointF, event) -> None:
        pass

    def left_press(self, point: QPointF, event) -> None:
        pass

    def left_drag(self, point: QPointF, event) -> None:
        pass

    def left_release(self, point: QPointF, event) -> None:
        pass

    def cancel(self) -> None:
        """Drop a half-drawn polygon or line (Escape)."""

    def paint(self, painter: QPainter) -> None:
        """Draw the tool's guide (brush circle, polygon so far) over the image; the active object is outlined."""
        self.outline_active(painter)

    def outline_active(self, painter: QPainter) -> None:
        """A white border around the active object, so a pick (or the first click of a merge) shows."""
        object_id = self.session.active_id
        key = (object_id, self.session.version, id(self.session.labels))
        if getattr(self, "_outline_key", None) != key:  # found once per change, not on every redraw
            self._outline_key, self._outline = key, self._find_outline(object_id)
        if self._outline is None:
            return
        image, (r0, r1, c0, c1) = self._outline
        top_left = self.viewer.image_to_widget(QPointF(float(c0), float(r0)))
        zoom = self.viewer.zoom
        painter.drawImage(QRectF(top_left.x(), top_left.y(), (c1 - c0) * zoom, (r1 - r0) * zoom), image)

    def _find_outline(self, object_id: int) -> tuple[QImage, tuple[int, int, int, int]] | None:
        if not object_id:
            return None
        rows, cols = np.nonzero(self.session.labels == object_id)
        if not rows.size:
            return None
        r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
        mine = np.pad(self.session.labels[r0:r1, c0:c1] == object_id, 1)
        edge = outlines(mine.astype(np.int32))[1:-1, 1:-1]
        argb = np.ascontiguousarray(np.where(edge, np.uint32(0xFFFFFFFF), np.uint32(0)))
        image = QImage(argb.data, argb.shape[1], argb.shape[0], 4 * argb.shape[1], QImage.Format.Format_ARGB32)
        return image.copy(), (r0, r1, c0, c1)

    def _polyline(self, painter: QPainter, points: list[QPointF], colour: str, closed: bool = False) -> None:
        if not points:
            return
        painter.setPen(QPen(QColor(colour), 2))
        shown = QPolygonF([self.viewer.image_to_widget(p) for p in points])
        painter.drawPolygon(shown) if closed and len(points) > 2 else painter.drawPolyline(shown)


class BrushTool(Tool):
    """Paint the active object (a new one when none is active) along the drag; the eraser paints background."""

    name = "brush"

    def __init__(self, session: LabelSession, *, erase: bool = False, radius: float = 4) -> None:
        super().__init__(session)
        self.erase, self.radius = erase, radius
        self.name = "eraser" if erase else "brush"
        self._before: np.ndarray | None = None
        self._last: tuple[float, float] | None = None
        self._value = 0

    def left_press(self, point: QPointF, event) -> None:
        self._before = self.session.labels
        self._value = 0 if self.erase else self.session.paint_id()
        self._last = to_pixel(point)
        self._paint(self._last, self._last)

    def left_drag(self, point: QPointF, event) -> None:
        if self._before is None or self._last is None:
            return
        here = to_pixel(point)
        self._paint(self._last, here)
        self._last = here

    def _paint(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        """Paint one segment inside its bounding box only (cheap on big images)."""
        labels = self.session.labels.copy() if self.session.labels is self._before else self.session.labels
        reach = int(math.ceil(self.radius)) + 1
        r0, c0 = max(0, int(min(a[0], b[0])) - reach), max(0, int(min(a[1], b[1])) - reach)
        r1 = min(labels.shape[0], int(max(a[0], b[0])) + reach + 1)
        c1 = min(labels.shape[1], int(max(a[1], b[1])) + reach + 1)
        if r1 <= r0 or c1 <= c0:
            return
        local = [(a[0] - r0, a[1] - c0), (b[0] - r0, b[1] - c0)]
        window = labels[r0:r1, c0:c1]
        window[...] = (edits.erase(window, local, self.radius) if self.erase
                       else edits.brush(window, local, self.radius, self._value))
        self.session.show(labels, during_stroke=True)

    def left_release(self, point: QPointF, event) -> None:
        if self._before is None:
            return
        before, after = self._before, self.session.labels
        self._before = self._last = None
        # ids stay unique: a piece cut off by the eraser, or a stroke apart from the object, gets its own id
        touched = np.unique(before[before != after]) if self.erase else np.array([self._value])
        after = edits.separate_disconnected(after, touched[touched > 0])
        self.session.apply(before, after, self.name)

    def paint(self, painter: QPainter) -> None:
        if self._before is None:  # while painting, the stroke itself shows the object
            self.outline_active(painter)
        if self.hover is None:
            return
        centre = self.viewer.image_to_widget(self.hover)
        size = max(self.radius, 0.5) * self.viewer.zoom
        painter.setPen(QPen(QColor("#ffffff" if not self.erase else "#ff6060"), 1.5))
        painter.drawEllipse(centre, size, size)


class FillTool(Tool):
    """Click: the connected region of equal ids under the cursor takes the active object (fills an outline)."""

    name = "fill"

    def left_press(self, point: QPointF, event) -> None:
        value = self.session.paint_id()
        self.session.run("fill", lambda labels: edits.separate_disconnected(
            edits.flood_fill(labels, to_pixel(point), value), [value]))


class PolygonTool(Tool):
    """Click corners and double-click (or Enter) to close, or drag a lasso: the shape becomes a new object."""

    name = "polygon"

    def __init__(self, session: LabelSession) -> None:
        super().__init__(session)
        self.points: list[QPointF] = []
        self._dragged = False

    def left_press(self, point: QPointF, event) -> None:
        self.points.append(point)
        self._dragged = False

    def left_drag(self, point: QPointF, event) -> None:
        last = self.points[-1] if self.points else point
        if (point - last).manhattanLength() * self.viewer.zoom >= 3:
            self.points.append(point)
            self._dragged = True

    def left_release(self, point: QPointF, event) -> None:
        if self._dragged:  # a lasso: close it on release
            self.finish()

    def double_click(self, point: QPointF, event) -> None:
        if not self.points or (self.points[-1] - point).manhattanLength() > 1e-6:
            self.points.append(point)  # the double-click's own corner (duplicates are dropped in finish)
        self.finish()

    def finish(self) -> bool:
        """Fill the polygon drawn so far; False when it has fewer than three corners."""
        corners = [to_pixel(p) for p in self.points]
        self.points, self._dragged = [], False
        unique = list(dict.fromkeys((round(r, 3), round(c, 3)) for r, c in corners))
        if len(unique) < 3:
            self.viewer.update()
            return False
        value = self.session.new_object()
        return self.session.run("polygon", lambda labels: edits.polygon_fill(labels, unique, value))

    def cancel(self) -> None:
        self.points = []

    def paint(self, painter: QPainter) -> None:
        self.outline_active(painter)
        self._polyline(painter, [*self.points, *([self.hover] if self.hover and self.points else [])], "#ffd84a")


class SplitTool(Tool):
    """Drag a line across an object: it is cut in two (the new piece gets a new id)."""

    name = "split"

    def __init__(self, session: LabelSession) -> None:
        super().__init__(session)
        self.points: list[QPointF] = []

    def left_press(self, point: QPointF, event) -> None:
        self.points = [point]

    def left_drag(self, point: QPointF, event) -> None:
        if self.points:
            self.points.append(point)

    def left_release(self, point: QPointF, event) -> None:
        line = [to_pixel(p) for p in self.points]
        self.points = []
        if len(line) < 2:
            return
        pieces: list[int] = []

        def split(labels: np.ndarray) -> np.ndarray:
            out, ids = edits.split_object(labels, line)
            pieces.extend(ids)
            return out

        if self.session.run("split", split):
            self.session.set_active(pieces[-1])  # the new piece is outlined: the cut shows
            self.session.message.emit(f"Object {pieces[0]} split: the new piece is object {pieces[-1]}.")

    def cancel(self) -> None:
        self.points = []

    def paint(self, painter: QPainter) -> None:
        self.outline_active(painter)
        self._polyline(painter, self.points, "#ff4fd8")


class MergeTool(Tool):
    """Click one object, then another: the second joins the first."""

    name = "merge"

    def __init__(self, session: LabelSession) -> None:
        super().__init__(session)
        self.first = 0

    def left_press(self, point: QPointF, event) -> None:
        clicked = self.object_at(point)
        if not clicked:
            self.session.problem.emit("Click on an object (not the background) to merge it.")
            return
        if not self.first:
            self.first = clicked
            self.session.set_active(clicked)
            self.session.message.emit(f"Object {clicked} chosen; click the object to join to it.")
            return
        first, self.first = self.first, 0
        if self.session.run("merge", lambda labels: edits.merge_objects(labels, first, clicked)):
            self.session.message.emit(f"Object {clicked} joined object {first}.")

    def cancel(self) -> None:
        self.first = 0


class PickTool(Tool):
    """Click an object to make it the active one (what the brush, fill and Delete use)."""

    name = "pick"
    cursor = Qt.CursorShape.PointingHandCursor

    def left_press(self, point: QPointF, event) -> None:
        self.session.set_active(self.object_at(point))

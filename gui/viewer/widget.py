"""The viewer widget: paints the visible part of an :class:`ImageStack` with its label layers.

Zoom with the wheel (around the cursor), ``F`` fits, ``1`` is 1:1; pan by dragging (left button when no tool
uses it, middle button always). Hovering shows the pixel value and the object under the cursor (id, area).
Two label layers can be compared side by side or with a swipe line. Painting tools (annotation) use
:meth:`ImageViewer.widget_to_image`, :attr:`ImageViewer.current_layer` and set :attr:`ImageViewer.tool` to take
the left and right buttons: the viewer calls the tool's ``press(point, event)``, ``move(point, event)``,
``release(point, event)``, ``double_click(point, event)`` (image coordinates) and ``paint(painter)`` when it
has them (see ``gui/annotation/tools.py``).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.viewer.render import ImageStack, LabelLayer

COMPARE_MODES = ("off", "swipe", "side")


class ImageViewer(QWidget):
    """Zoomable, pannable view of one image stack and its label layers."""

    view_changed = Signal()
    hovered = Signal(str)  # "x 12, y 40 · value 812 · object 7 (area 230 px)", "" when outside
    image_changed = Signal()

    MIN_ZOOM, MAX_ZOOM = 1 / 64, 64.0

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 160)
        self.image: ImageStack | None = None
        self.layers: list[LabelLayer] = []
        self.current_index = -1
        self.zoom = 1.0
        self.center = QPointF(0.0, 0.0)  # image coordinates at the widget's centre
        self.compare_mode = "off"
        self.compare_layers: tuple[int, int] = (0, 1)
        self.swipe = 0.5  # fraction of the width
        self.tool = None  # an annotation tool takes the left button when set
        self.message = ""
        self.hover_text = ""
        #: Draw the hover text on the image (off when the page shows :attr:`hovered` in a label of its own).
        self.show_hover_overlay = True
        self._drag_from: QPointF | None = None
        self.last_render_shape: tuple[int, ...] = ()

    # ----------------------------------------------------------------- content
    def set_image(self, image: ImageStack | np.ndarray | None, *, axes: str | None = None,
                  channel_names: list[str] | None = None, keep_view: bool = False) -> None:
        """Show ``image`` (an array is wrapped in an :class:`ImageStack`); removes the label layers."""
        if image is not None and not isinstance(image, ImageStack):
            image = ImageStack(image, axes, channel_names)
        self.image = image
        self.layers, self.current_index = [], -1
        self.message = "" if image is not None else self.message
        if not keep_view:
            self.fit()
        self.image_changed.emit()
        self.update()

    def clear(self, message: str = "") -> None:
        """Show nothing (and ``message``), e.g. when another recipe without images is opened."""
        self.image, self.layers, self.current_index = None, [], -1
        self.message = message
        self.image_changed.emit()
        self.update()

    def add_labels(self, name: str, labels: np.ndarray, **options) -> LabelLayer:
        """Add a label layer (it becomes the current one) and return it."""
        layer = LabelLayer(name, labels, **options)
        self.layers.append(layer)
        self.current_index = len(self.layers) - 1
        self.image_changed.emit()
        self.update()
        return layer

    @property
    def current_layer(self) -> LabelLayer | None:
        """The label layer the hover (and the annotation tools) work on."""
        return self.layers[self.current_index] if 0 <= self.current_index < len(self.layers) else None

    def set_current_layer(self, index: int) -> None:
        self.current_index = index
        self.update()

    def set_compare(self, mode: str, first: int = 0, second: int = 1) -> None:
        """Compare two label layers: "swipe" (a movable line), "side" (two views), or "off"."""
        if mode not in COMPARE_MODES:
            raise ValueError(f"Expected one of {COMPARE_MODES}. Received {mode!r}.")
        self.compare_mode, self.compare_layers = mode, (first, second)
        self.update()

    # ----------------------------------------------------------------- coordinates
    def _pane_width(self) -> float:
        return self.width() / 2 if self.compare_mode == "side" else float(self.width())

    def widget_to_image(self, point: QPointF) -> QPointF:
        """Image coordinates (x, y in pixels, fractional) of a widget point."""
        width = self._pane_width()
        x = point.x() % width if self.compare_mode == "side" else point.x()
        return QPointF(self.center.x() + (x - width / 2) / self.zoom,
                       self.center.y() + (point.y() - self.height() / 2) / self.zoom)

    def image_to_widget(self, point: QPointF) -> QPointF:
        """Widget coordinates of an image point (the left pane in side-by-side mode)."""
        return QPointF((point.x() - self.center.x()) * self.zoom + self._pane_width() / 2,
                       (point.y() - self.center.y()) * self.zoom + self.height() / 2)

    # ----------------------------------------------------------------- zoom and pan
    def fit(self) -> None:
        """Zoom so the whole image is visible."""
        if self.image is None:
            return
        width, height = max(self._pane_width(), 1), max(self.height(), 1)
        self.zoom = min(width / self.image.width, height / self.image.height)
        self.center = QPointF(self.image.width / 2, self.image.height / 2)
        self._changed()

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, keeping the centre."""
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` screen pixels per image pixel, keeping the image point under ``anchor`` in place."""
        zoom = min(self.MAX_ZOOM, max(self.MIN_ZOOM, zoom))
        if anchor is not None:
            before = self.widget_to_image(anchor)
            self.zoom = zoom
            after = self.widget_to_image(anchor)
            self.center += before - after
        else:
            self.zoom = zoom
        self._changed()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the view by (dx, dy) screen pixels."""
        self.center -= QPointF(dx / self.zoom, dy / self.zoom)
        self._changed()

    def _changed(self) -> None:
        self.update()
        self.view_changed.emit()

    def resizeEvent(self, event) -> None:
        if self.image is not None and event.oldSize().width() <= 0:
            self.fit()
        super().resizeEvent(event)

    # ----------------------------------------------------------------- painting
    def visible_region(self) -> tuple[int, int, int, int, int]:
        """(y0, y1, x0, x1, step) of the image shown in one pane (``step``: sub-sampling when zoomed out)."""
        assert self.image is not None
        top_left = self.widget_to_image(QPointF(0, 0))
        x0 = max(0, int(math.floor(top_left.x())))
        y0 = max(0, int(math.floor(top_left.y())))
        x1 = min(self.image.width, int(math.ceil(top_left.x() + self._pane_width() / self.zoom)) + 1)
        y1 = min(self.image.height, int(math.ceil(top_left.y() + self.height() / self.zoom)) + 1)
        step = max(1, int(1 / self.zoom))
        return y0, y1, x0, x1, step

    def compose(self, layers: list[LabelLayer] | None = None) -> list[tuple[QImage, QRectF, float]]:
        """What one pane paints: the visible image region, then each label layer as (image, target, opacity).

        Only the visible region at the shown scale is converted; label layers are ARGB images that the
        painter blends.
        """
        if self.image is None:
            return []
        y0, y1, x0, x1, step = self.visible_region()
        if y1 <= y0 or x1 <= x0:
            return []
        rgb = np.ascontiguousarray(self.image.render(y0, y1, x0, x1, step))
        self.last_render_shape = rgb.shape
        height, width = rgb.shape[:2]
        top_left = self.image_to_widget(QPointF(x0, y0))
        target = QRectF(top_left.x(), top_left.y(), width * step * self.zoom, height * step * self.zoom)
        parts = [(QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy(), target, 1.0)]
        for layer in self.layers if layers is None else layers:
            if not layer.visible or layer.opacity <= 0:
                continue
            argb = np.ascontiguousarray(layer.argb(y0, y1, x0, x1, step))
            opacity = max(layer.opacity, 0.5) if layer.outline else layer.opacity
            parts.append((QImage(argb.data, width, height, 4 * width, QImage.Format.Format_ARGB32).copy(), target,
                          opacity))
        return parts

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202326"))
        if self.image is None:
            painter.setPen(QColor("#c8ccd2"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.message or "No image.")
            return
        smooth = self.zoom < 1
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        if self.compare_mode == "off" or len(self.layers) < 2:
            self._paint_pane(painter, None, 0)
        else:
            first, second = (self.layers[i] for i in self.compare_layers)
            others = [layer for layer in self.layers if layer not in (first, second)]
            if self.compare_mode == "side":
                half = self.width() / 2
                for offset, layer in ((0.0, first), (half, second)):
                    painter.save()
                    painter.setClipRect(QRectF(offset, 0, half, self.height()))
                    self._paint_pane(painter, [*others, layer], offset)
                    painter.restore()
                    self._caption(painter, layer.name, offset)
                painter.setPen(QPen(QColor("#ffffff"), 2))
                painter.drawLine(QPointF(half, 0), QPointF(half, self.height()))
            else:
                split = self.swipe * self.width()
                for clip, layer, x in ((QRectF(0, 0, split, self.height()), first, 0.0),
                                       (QRectF(split, 0, self.width() - split, self.height()), second, split)):
                    painter.save()
                    painter.setClipRect(clip)
                    self._paint_pane(painter, [*others, layer], 0)
                    painter.restore()
                    self._caption(painter, layer.name, x)
                painter.setPen(QPen(QColor("#ffffff"), 2))
                painter.drawLine(QPointF(split, 0), QPointF(split, self.height()))
        if self.tool is not None and hasattr(self.tool, "paint"):
            self.tool.paint(painter)
        if self.hover_text and self.show_hover_overlay:
            self._badge(painter, self.hover_text, left=True)
        self._badge(painter, f"{self.zoom * 100:.0f} %", left=False)

    def _badge(self, painter: QPainter, text: str, left: bool) -> None:
        """Text on a dark box in a bottom corner (readable over any image)."""
        width = painter.fontMetrics().horizontalAdvance(text) + 12
        box = QRectF(6 if left else self.width() - width - 6, self.height() - 26, width, 20)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor("#ffffff"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_pane(self, painter: QPainter, layers: list[LabelLayer] | None, offset: float) -> None:
        for qimage, target, opacity in self.compose(layers):
            painter.setOpacity(opacity)
            painter.drawImage(target.translated(offset, 0), qimage)
        painter.setOpacity(1.0)

    def _caption(self, painter: QPainter, text: str, x: float) -> None:
        painter.setPen(QColor("#ffffff"))
        painter.drawText(QRectF(x + 8, 6, 300, 20), Qt.AlignmentFlag.AlignLeft, text)

    # ----------------------------------------------------------------- mouse and keys
    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_zoom(self.zoom * (1.25 ** steps), event.position())
        event.accept()

    def _to_tool(self, name: str, event) -> bool:
        """Hand a mouse event to the annotation tool (left / right button); True when the tool took it."""
        handler = getattr(self.tool, name, None) if self.tool is not None else None
        if handler is None or self.image is None:
            return False
        if name != "move" and event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return False
        handler(self.widget_to_image(event.position()), event)
        self.update()
        return True

    def mouseDoubleClickEvent(self, event) -> None:
        if not self._to_tool("double_click", event):
            super().mouseDoubleClickEvent(event)

    def mousePressEvent(self, event) -> None:
        if self._to_tool("press", event):
            return
        pans = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self.tool is None)
        if pans:
            if self.compare_mode == "swipe" and abs(event.position().x() - self.swipe * self.width()) < 6:
                self._drag_from = None
                self._swiping = True
                return
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if getattr(self, "_swiping", False):
            self.swipe = min(1.0, max(0.0, event.position().x() / max(self.width(), 1)))
            self.update()
            return
        if self._drag_from is not None:
            delta = event.position() - self._drag_from
            self._drag_from = event.position()
            self.pan_by(delta.x(), delta.y())
        else:
            self._to_tool("move", event)
        self._hover(event.position())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._drag_from is None and self._to_tool("release", event):
            return
        self._drag_from = None
        self._swiping = False
        self.unsetCursor()
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        self.hover_text = ""
        self.hovered.emit("")
        self.update()
        super().leaveEvent(event)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key == Qt.Key.Key_F:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.one_to_one()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_zoom(self.zoom * 1.25)
        elif key == Qt.Key.Key_Minus:
            self.set_zoom(self.zoom / 1.25)
        else:
            super().keyPressEvent(event)

    def describe(self, x: int, y: int) -> str:
        """What is at image pixel (x, y): the value(s) and the object of the current label layer."""
        if self.image is None or not (0 <= x < self.image.width and 0 <= y < self.image.height):
            return ""
        values = self.image.plane()[y, x]
        shown = ", ".join(f"{v:g}" for v in np.atleast_1d(values)[:4])
        text = f"x {x}, y {y} · value {shown}"
        layer = self.current_layer
        if layer is not None:
            label = layer.value_at(y, x)
            text += f" · {layer.name}: " + (f"object {label} (area {layer.area(label)} px)" if label else "background")
        return text

    def _hover(self, position: QPointF) -> None:
        point = self.widget_to_image(position)
        text = self.describe(int(math.floor(point.x())), int(math.floor(point.y())))
        if text != self.hover_text:
            self.hover_text = text
            self.hovered.emit(text)
            self.update()

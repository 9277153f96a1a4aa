"""The canvas widget: zoom with the wheel, pan with the middle button (or Space + drag), drop blocks."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView

from gui.graph_editor.scene import MIME_BLOCK, GraphScene


class GraphView(QGraphicsView):
    """View on a :class:`GraphScene` with zoom, pan, rubber-band selection and palette drops."""

    MIN_ZOOM, MAX_ZOOM = 0.1, 3.0

    def __init__(self, scene: GraphScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setAcceptDrops(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self._pan_from: QPointF | None = None
        self._space = False

    # ----------------------------------------------------------------- zoom
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(self.MAX_ZOOM, max(self.MIN_ZOOM, self.zoom() * factor))
        self.scale(target / self.zoom(), target / self.zoom())

    def reset_zoom(self) -> None:
        self.resetTransform()

    def fit_all(self) -> None:
        """Zoom so that every block and pipeline stage is visible."""
        rect = self.graph_scene.content_rect()
        if rect is None:
            self.resetTransform()
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-30, -30, 30, 30)
        margin = rect.adjusted(-2000, -2000, 2000, 2000)  # big graphs outgrow the initial canvas: room to pan
        self.graph_scene.setSceneRect(self.graph_scene.sceneRect().united(margin))
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:  # never enlarge a small graph past 100 %
            self.zoom_by(1.0 / self.zoom())
        elif self.zoom() < self.MIN_ZOOM:
            self.zoom_by(self.MIN_ZOOM / self.zoom())
        self.centerOn(rect.center())

    def wheelEvent(self, event) -> None:
        self.zoom_by(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)

    # ----------------------------------------------------------------- pan
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
            self.unsetCursor()
            return
        super().mouseReleaseEvent(event)

    # ----------------------------------------------------------------- drops from the palette
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME_BLOCK):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME_BLOCK):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME_BLOCK):
            name = bytes(event.mimeData().data(MIME_BLOCK)).decode("utf-8")
            self.drop_block(name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

    def drop_block(self, name: str, scene_pos: QPointF) -> str:
        """What a palette drop does: add the block centred under the mouse."""
        return self.graph_scene.add_block(name, QPointF(scene_pos.x() - 90, scene_pos.y() - 20))

    def add_at_center(self, name: str) -> str:
        center = self.mapToScene(self.viewport().rect().center())
        return self.drop_block(name, center)

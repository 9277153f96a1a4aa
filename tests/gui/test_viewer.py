"""The image viewer driven like a user: wheel zoom, drag pan, keys, hover, contrast, z/time, compare."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from gui.viewer import ImageViewer
from gui.viewer.controls import ViewerControls


def _wheel(widget, pos: QPoint, steps: int) -> None:
    event = QWheelEvent(QPointF(pos), QPointF(widget.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


@pytest.fixture
def viewer(qtbot):
    widget = ImageViewer()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    image = np.full((120, 160), 100, np.uint16)
    labels = np.zeros((120, 160), np.int32)
    labels[20:40, 30:60] = 1  # 600 px
    labels[70:80, 100:105] = 2  # 50 px
    image[labels > 0] = 3000
    return image, labels


def test_wheel_zooms_around_the_cursor_and_keys_fit_and_one_to_one(viewer, qtbot):
    image, _labels = _blobs()
    viewer.set_image(image)
    fitted = viewer.zoom
    assert fitted == pytest.approx(min(400 / 160, 300 / 120))
    cursor = QPoint(120, 90)
    before = viewer.widget_to_image(QPointF(cursor))
    _wheel(viewer, cursor, 2)
    assert viewer.zoom == pytest.approx(fitted * 1.25**2)
    after = viewer.widget_to_image(QPointF(cursor))
    assert (after.x(), after.y()) == pytest.approx((before.x(), before.y()))
    qtbot.keyClick(viewer, Qt.Key.Key_1)
    assert viewer.zoom == 1.0
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    assert viewer.zoom == pytest.approx(fitted)


def test_drag_pans_and_hover_names_the_object_and_its_area(viewer, qtbot):
    image, labels = _blobs()
    viewer.set_image(image)
    viewer.add_labels("ground truth", labels)
    viewer.set_zoom(2.0)
    centre = QPointF(viewer.center)
    qtbot.mousePress(viewer, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(viewer, QPoint(240, 170))
    qtbot.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=QPoint(240, 170))
    assert (viewer.center.x(), viewer.center.y()) == pytest.approx((centre.x() - 20, centre.y() - 10))
    target = viewer.image_to_widget(QPointF(45.5, 30.5)).toPoint()
    qtbot.mouseMove(viewer, target)
    assert "x 45, y 30" in viewer.hover_text
    assert "object 1 (area 600 px)" in viewer.hover_text
    qtbot.mouseMove(viewer, viewer.image_to_widget(QPointF(102.5, 75.5)).toPoint())
    assert "object 2 (area 50 px)" in viewer.hover_text


def test_only_the_visible_region_is_converted(viewer):
    big = np.zeros((2048, 2048), np.uint16)
    viewer.set_image(big)
    viewer.set_zoom(4.0)
    viewer.repaint()
    assert viewer.last_render_shape[0] <= 300 / 4 + 2 and viewer.last_render_shape[1] <= 400 / 4 + 2
    viewer.fit()
    viewer.repaint()
    assert viewer.last_render_shape[0] <= 300 * 2  # zoomed out: sub-sampled, not the full 2048 rows


def test_contrast_numbers_channels_z_and_time(viewer, qtbot):
    stack = np.zeros((3, 2, 40, 50, 2), np.uint16)  # T, Z, Y, X, C
    for t in range(3):
        for z in range(2):
            stack[t, z, ..., 0] = 1000 * (t + 1) + 100 * z
    stack[..., 1] = 500
    viewer.set_image(stack, axes="TZYXC", channel_names=["DAPI", "GFP"])
    controls = ViewerControls(viewer)
    qtbot.addWidget(controls)
    controls.show()
    assert controls.t.isVisible() and controls.z.isVisible()
    controls.channel.setCurrentIndex(1)  # DAPI alone
    controls.low.setValue(0)
    controls.high.setValue(4000)
    assert viewer.image.render(0, 1, 0, 1)[0, 0, 0] == int(1000 / 4000 * 255)
    controls.t.setValue(2)
    assert controls.t_label.text() == "frame 3 of 3"
    controls.z.setValue(1)
    assert viewer.image.render(0, 1, 0, 1)[0, 0, 0] == int(3100 / 4000 * 255)


def test_swipe_and_side_by_side_show_prediction_and_ground_truth(viewer, qtbot):
    image, labels = _blobs()
    viewer.set_image(np.zeros_like(image))
    everywhere = np.ones_like(labels)
    viewer.add_labels("prediction", everywhere, opacity=1.0)
    viewer.add_labels("ground truth", everywhere * 2, opacity=1.0)
    controls = ViewerControls(viewer)
    qtbot.addWidget(controls)
    controls.compare.setCurrentIndex(1)  # swipe
    assert viewer.compare_mode == "swipe"
    shot = viewer.grab().toImage()
    left, right = shot.pixelColor(100, 150), shot.pixelColor(300, 150)
    colours = viewer.layers[0]._colours
    assert (left.red(), left.green(), left.blue()) == tuple(colours[1])
    assert (right.red(), right.green(), right.blue()) == tuple(viewer.layers[1]._colours[2])
    qtbot.mousePress(viewer, Qt.MouseButton.LeftButton, pos=QPoint(200, 100))  # grab the swipe line
    qtbot.mouseMove(viewer, QPoint(350, 100))
    qtbot.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=QPoint(350, 100))
    assert viewer.swipe == pytest.approx(350 / 400)
    controls.compare.setCurrentIndex(2)  # side by side: the same place in both panes
    assert viewer.compare_mode == "side"
    viewer.fit()
    shot = viewer.grab().toImage()
    assert shot.pixelColor(100, 150) != shot.pixelColor(300, 150)

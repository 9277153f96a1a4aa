"""Label overlays in the viewer: the opacity slider and "Outlines only" change what is painted (issue 20, viewer)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from gui.viewer import ImageViewer
from gui.viewer.controls import ViewerControls


def _gray(color) -> bool:
    return abs(color.red() - color.green()) < 8 and abs(color.green() - color.blue()) < 8


def test_opacity_slider_and_outline_toggle_change_the_painted_overlay(qtbot):
    viewer = ImageViewer()
    controls = ViewerControls(viewer)
    qtbot.addWidget(viewer)
    qtbot.addWidget(controls)
    viewer.resize(400, 300)
    viewer.show()
    qtbot.waitExposed(viewer)
    image = np.full((120, 160), 100, np.uint16)
    labels = np.zeros((120, 160), np.int32)
    labels[20:60, 30:90] = 1
    image[labels > 0] = 3000
    viewer.set_image(image)
    viewer.add_labels("nuclei", labels)
    viewer.set_current_layer(0)
    controls.sync()
    viewer.fit()

    def pixel(x: float, y: float):
        point = viewer.image_to_widget(QPointF(x, y)).toPoint()
        return viewer.grab().toImage().pixelColor(point)

    inside, edge = (60.5, 40.5), (30.5, 40.5)
    controls.outline.setChecked(False)
    controls.opacity.setValue(100)
    assert not _gray(pixel(*inside))  # filled: the object is painted in its label colour
    controls.opacity.setValue(0)
    assert _gray(pixel(*inside))  # no overlay: the image itself
    assert viewer.current_layer.opacity == 0
    controls.opacity.setValue(100)
    controls.outline.setChecked(True)
    assert viewer.current_layer.outline
    assert _gray(pixel(*inside)) and not _gray(pixel(*edge))  # only the outline is coloured

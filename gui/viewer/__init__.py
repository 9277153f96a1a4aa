"""One image viewer for the data page, the results/predict panel and the annotation tools.

:mod:`gui.viewer.render` does the pixel work in NumPy (no Qt): only the visible region, at the displayed
scale, is converted per redraw; contrast is a lookup table. :class:`gui.viewer.widget.ImageViewer` paints it
and handles zoom (wheel, fit, 1:1), pan, hover and the comparison modes; :class:`gui.viewer.controls.ViewerControls`
holds the channel, contrast, z/time sliders and label-layer settings.
"""

from gui.viewer.render import ImageStack, LabelLayer
from gui.viewer.widget import ImageViewer

__all__ = ["ImageStack", "ImageViewer", "LabelLayer"]

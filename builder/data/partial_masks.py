"""Partly annotated masks: cells that are marked but not outlined must not be learned as background.

In the Cell Tracking Challenge layout a SEG mask (``man_segTTT.tif``) may outline only some of the cells of its
frame, while the TRA markers (``man_trackTTT.tif``) mark every cell. A marker that touches no outlined cell is
a cell nobody drew: its marker and a margin around it (the typical radius of the outlined cells) are set to
:data:`IGNORE`, which the three-class training target turns into pixels without a class (zero loss weight).
Everything else keeps its meaning: outlined cells are cells, the rest of the frame is background.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: Mask value of pixels the loss ignores (a cell there is not outlined).
IGNORE = -1


def typical_radius(seg: np.ndarray, default: float = 8.0) -> float:
    """Median equivalent radius (pixels) of the outlined cells of ``seg``, or ``default`` when there are none."""
    labels = np.asarray(seg)
    areas = np.bincount(labels[labels > 0].ravel())
    areas = areas[areas > 0]
    return float(np.sqrt(np.median(areas) / np.pi)) if areas.size else default


def ignore_unannotated(seg: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """``seg`` with :data:`IGNORE` around the markers of cells it does not outline.

    Parameters
    ----------
    seg : (Y, X) int array
        Outlined cells (0 = background or not drawn).
    markers : (Y, X) int array
        One marker per cell of the frame (TRA markers), same shape.

    Returns
    -------
    (Y, X) int32 array
        ``seg`` where cells are outlined; :data:`IGNORE` on the unoutlined cells' markers grown by the typical
        cell radius (never over an outlined cell); 0 elsewhere.
    """
    seg = np.asarray(seg).astype(np.int32)
    markers = np.asarray(markers)
    if markers.shape != seg.shape:
        from builder.errors import DataError

        raise DataError("TRA markers", f"Expected the shape of the SEG mask {seg.shape}. Received: {markers.shape}.",
                        "Give the SEG mask and the TRA markers of a frame the same size.")
    outlined = np.unique(markers[(seg > 0) & (markers > 0)])
    missing = (markers > 0) & ~np.isin(markers, outlined)
    if not missing.any():
        return seg
    radius = typical_radius(seg)
    far = ndi.distance_transform_edt(~missing) > radius
    out = seg.copy()
    out[~far & (seg == 0)] = IGNORE
    return out

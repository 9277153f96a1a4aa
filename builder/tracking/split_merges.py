"""Undo merges with the frame before: nuclei do not fuse, so one object over two cells of the previous frame is two.

Frame by frame (forward, so a split object guides the next frame), an object is cut when it covers most of two or
more objects of the previous frame that are each of cell size, and it is as large as most of them together. The
cut is a watershed inside the object from the parts of those previous objects it covers, on the network's interior
probability where given (else the distance to the object's edge).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: A previous object counts when at least this share of it lies in the current object.
COVERED = 0.5
#: ... and it has at least this share of the median object area of its frame (not a fragment).
CELL_SIZE = 0.5
#: The current object must have at least this share of the covered objects' total area (not one cell's worth).
TOGETHER = 0.7


def _split_frame(current: np.ndarray, previous: np.ndarray, height: np.ndarray | None) -> np.ndarray:
    from skimage.segmentation import watershed

    prev_ids, prev_areas = np.unique(previous[previous > 0], return_counts=True)
    if prev_ids.size == 0:
        return current
    big = prev_areas >= CELL_SIZE * float(np.median(prev_areas))
    area_of = dict(zip(prev_ids.tolist(), prev_areas.tolist(), strict=True))
    both = (current > 0) & (previous > 0)
    if not both.any():
        return current
    base = int(previous.max()) + 1
    keys, counts = np.unique(current[both].astype(np.int64) * base + previous[both], return_counts=True)
    combos = np.stack([keys // base, keys % base], 1)
    out = current.copy()
    next_label = int(current.max()) + 1
    for obj in np.unique(combos[:, 0]):
        rows = combos[:, 0] == obj
        covered = [int(p) for p, n in zip(combos[rows, 1], counts[rows], strict=True)
                   if n >= COVERED * area_of[int(p)] and big[np.searchsorted(prev_ids, p)]]
        if len(covered) < 2:
            continue
        region = current == obj
        if region.sum() < TOGETHER * sum(area_of[p] for p in covered):
            continue
        box = ndi.find_objects(region.astype(np.int8))[0]  # work inside the object's bounding box
        inside, before = region[box], previous[box]
        markers = np.zeros(inside.shape, np.int32)
        for k, p in enumerate(covered, start=1):
            core = (before == p) & inside
            eroded = ndi.binary_erosion(core, iterations=2)
            markers[eroded if eroded.any() else core] = k
        surface = -(height[box] if height is not None else ndi.distance_transform_edt(inside))
        parts = watershed(surface, markers, mask=inside)
        view = out[box]
        for k in range(2, len(covered) + 1):
            view[parts == k] = next_label
            next_label += 1
    return out


def split_merged(labels: np.ndarray, interiors: np.ndarray | None = None) -> np.ndarray:
    """``labels`` (T, Y, X) with objects that swallowed two or more cells of the frame before cut apart.

    Parameters
    ----------
    labels : (T, Y, X) int array
        Instance labels per frame (labels need not agree between frames).
    interiors : (T, Y, X) float array, optional
        The network's interior (cell centre) probability per frame: the watershed surface.

    Returns
    -------
    (T, Y, X) int32 array
        The same objects, merged ones cut (new labels above each frame's largest).
    """
    out = np.asarray(labels).astype(np.int32).copy()
    for t in range(1, len(out)):
        out[t] = _split_frame(out[t], out[t - 1], None if interiors is None else np.asarray(interiors[t]))
    return out

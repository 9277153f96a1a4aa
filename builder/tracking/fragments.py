"""Give small pieces cut off a cell back to it: a speck touching one cell is part of that cell.

The watershed of a cell's probabilities sometimes cuts a few pixels off its edge as an object of their own. Each
such piece counts as a false object in the tracking measures and takes pixels from the cell's outline. A piece
smaller than :data:`PIECE_SHARE` of the frame's median object that touches exactly one other object, at least
:data:`OWNER_TIMES` times larger, is merged into it. Small objects that touch nothing (a cell just entering the
image at its border) or touch several cells are kept.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: Largest piece, as a share of the frame's median object area (the linker's fragment share,
#: :data:`builder.tracking.linker.DAUGHTER_MIN_SHARE`).
PIECE_SHARE = 0.05
#: The object a piece is given to is at least this many times larger than the piece.
OWNER_TIMES = 5.0


def absorb_frame(labels: np.ndarray) -> np.ndarray:
    """One (Y, X) label image with its small pieces merged into the one object each touches."""
    out = np.asarray(labels).copy()
    ids, areas = np.unique(out[out > 0], return_counts=True)
    if len(ids) < 2:
        return out
    area_of = dict(zip(ids.tolist(), areas.tolist(), strict=True))
    limit = PIECE_SHARE * float(np.median(areas))
    boxes = ndi.find_objects(out)
    for label in ids[areas < limit].tolist():
        box = boxes[label - 1]
        grown = tuple(slice(max(s.start - 2, 0), s.stop + 2) for s in box)
        piece = out[grown] == label
        ring = ndi.binary_dilation(piece, iterations=2) & ~piece  # across a one-pixel watershed line too
        touched = set(np.unique(out[grown][ring]).tolist()) - {0, label}
        if len(touched) != 1:
            continue
        owner = touched.pop()
        if area_of.get(owner, 0) >= OWNER_TIMES * area_of[label]:
            view = out[grown]
            view[piece] = owner
            area_of[owner] += area_of.pop(label)
    return out


def absorb_pieces(labels: np.ndarray) -> np.ndarray:
    """(T, Y, X) labels with each frame's small pieces merged into the object they touch (:func:`absorb_frame`)."""
    labels = np.asarray(labels)
    return np.stack([absorb_frame(frame) for frame in labels]) if len(labels) else labels

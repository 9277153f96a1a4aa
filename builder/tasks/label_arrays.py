"""Instance label images as the targets and post-processing expect them: one 2D integer plane."""

from __future__ import annotations

from typing import Any

import numpy as np

from builder.errors import DataError

#: Value of the regression targets (distance maps, star-convex probability) at pixels without a target (negative
#: mask values: cells nobody outlined); the distance and star-convex losses skip those pixels.
NO_TARGET = -1.0


def labels_2d(labels: Any, name: str = "labels") -> tuple[np.ndarray, bool]:
    """(2D integer instance labels, whether the input had a trailing channel axis); a located error otherwise."""
    a = np.asarray(labels)
    had_channel = a.ndim == 3 and a.shape[-1] == 1
    if had_channel:
        a = a[..., 0]
    if a.ndim != 2:
        raise DataError("instance target", f"`{name}` must be (Y, X) or (Y, X, 1); received shape {a.shape}.",
                        "Pass one 2D instance label image (0 background, 1, 2, ... objects).")
    if not np.issubdtype(a.dtype, np.integer):
        if a.size and not np.all(np.mod(a, 1) == 0):
            raise DataError("instance target", f"`{name}` holds non-integer values (dtype {a.dtype}).",
                            "Instance masks must be integer labels; check data.masks points at the label images.")
        a = a.astype(np.int64)
    return a, had_channel

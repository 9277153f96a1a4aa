"""bioimage.io pre- and postprocessing steps applied in NumPy, the way a bioimage.io consumer applies them."""

from __future__ import annotations

from typing import Any

import numpy as np

from builder.errors import ExportError


def apply_preprocessing(steps: list[Any], raw: np.ndarray) -> np.ndarray:
    """Apply spec preprocessing (or postprocessing) steps to a B,Y,X,C array in NumPy, the way a bioimage.io
    consumer does.

    Used to check that the written processing reproduces Cellwright's normalisation and output intensities.
    """
    index = {"batch": 0, "y": 1, "x": 2, "channel": 3}
    x = raw.astype(np.float64)
    for step in steps:
        kw = step.kwargs
        if step.id in ("scale_range", "zero_mean_unit_variance"):
            axes = tuple(index[str(a)] for a in (kw.axes or ("batch", "y", "x", "channel")))
            if step.id == "scale_range":
                lo = np.percentile(x, kw.min_percentile, axis=axes, keepdims=True)
                hi = np.percentile(x, kw.max_percentile, axis=axes, keepdims=True)
                x = (x - lo) / (hi - lo + kw.eps)
            else:
                x = (x - x.mean(axis=axes, keepdims=True)) / (x.std(axis=axes, keepdims=True) + kw.eps)
        elif step.id == "scale_linear":
            x = x * np.asarray(kw.gain) + np.asarray(kw.offset)
        elif step.id == "fixed_zero_mean_unit_variance":
            x = (x - np.asarray(kw.mean)) / (np.asarray(kw.std) + kw.eps)
        elif step.id == "clip":
            x = np.clip(x, kw.min, kw.max)
        elif step.id != "ensure_dtype":
            raise ExportError("bioimageio preprocessing", f"Unexpected step {step.id!r}.", "Report this.")
    return x.astype(np.float32)

"""Semantic segmentation: a class index per pixel; softmax output (B, Y, X, n_classes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from builder.errors import DataError


def class_mask_target(mask: Any, *, binary: bool = False) -> np.ndarray:
    """Class-index target ``(Y, X, 1)`` float32 from a mask.

    Parameters
    ----------
    mask : (Y, X) or (Y, X, 1) array of int
        Class indices (0 background), or any labels when ``binary``.
    binary : bool
        Map every value > 0 to class 1 (foreground).
    """
    m = np.asarray(mask)
    if m.ndim == 2:
        m = m[..., None]
    if m.ndim != 3 or m.shape[-1] != 1:
        raise DataError("segmentation target", f"Mask must be (Y, X) or (Y, X, 1); received shape {m.shape}.",
                        "Use single-channel masks with one class index per pixel.")
    if binary:
        m = m > 0
    return m.astype(np.float32)


def labels_from_probabilities(prob: Any, *, threshold: float | None = None) -> np.ndarray:
    """Class index per pixel from softmax probabilities.

    Parameters
    ----------
    prob : (Y, X, K) array of float
    threshold : float, optional
        For two classes: foreground where P(class 1) > threshold (instead of the arg-max).

    Returns
    -------
    (Y, X) ndarray of int32
    """
    p = np.asarray(prob, dtype=np.float32)
    if p.ndim != 3:
        raise DataError("segmentation", f"Expected (Y, X, n_classes) probabilities; received shape {p.shape}.",
                        "Pass the network output for one image (batch axis removed).")
    if p.shape[-1] == 1:
        return (p[..., 0] > (0.5 if threshold is None else threshold)).astype(np.int32)
    if p.shape[-1] == 2 and threshold is not None:
        return (p[..., 1] > threshold).astype(np.int32)
    return p.argmax(axis=-1).astype(np.int32)

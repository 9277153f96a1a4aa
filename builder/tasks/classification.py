"""Classification: one label per image; softmax (or 2-class sigmoid) heads; class weights for imbalance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from builder.errors import DataError


def class_index_target(label: int) -> np.ndarray:
    """A class index as the ``(1,)`` float32 training target (the losses accept sparse indices)."""
    if int(label) != label or label < 0:
        raise DataError("classification target", f"Class index must be an integer >= 0. Received: label={label!r}",
                        "Check the class folders or the label column of the manifest.")
    return np.asarray([label], dtype=np.float32)


def predict_classes(probabilities: Any, *, threshold: float = 0.5) -> np.ndarray:
    """Class indices from probabilities.

    Parameters
    ----------
    probabilities : (N, K) array, or (N,) / (N, 1) for a 2-class sigmoid head (probability of class 1)
    threshold : float
        Decision threshold for the sigmoid head.

    Returns
    -------
    (N,) ndarray of int64
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        return (p.reshape(-1) > threshold).astype(np.int64)
    if p.ndim != 2:
        raise DataError("classification", f"Expected (N, n_classes) probabilities; received shape {p.shape}.",
                        "Pass the model output for a batch of images.")
    return p.argmax(axis=-1).astype(np.int64)


def class_weights_from_counts(counts: Sequence[int], *, max_weight: float = 20.0) -> list[float]:
    """Inverse-frequency class weights ``N / (K * n_k)`` (scikit-learn's "balanced"), capped at ``max_weight``.

    A class with no examples gets weight 1.

    Examples
    --------
    >>> class_weights_from_counts([30, 10])
    [0.6666666666666666, 2.0]
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.size == 0 or (c < 0).any():
        raise DataError("train.class_weights", f"Expected one non-negative count per class. Received: {list(counts)}",
                        "Count the examples (or pixels) of each class.")
    total, k = c.sum(), c.size
    w = np.ones(k)
    nz = c > 0
    w[nz] = total / (k * c[nz])
    return [float(v) for v in np.minimum(w, max_weight)]


def class_weights_from_labels(labels: Any, n_classes: int, *, max_weight: float = 20.0) -> list[float]:
    """Inverse-frequency class weights from class indices (image labels or pixel masks, any shape)."""
    lab = np.asarray(labels).astype(np.int64).ravel()
    return class_weights_from_counts(np.bincount(lab, minlength=n_classes)[:n_classes], max_weight=max_weight)

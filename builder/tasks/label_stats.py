"""Per-object statistics of a label image in a few whole-image passes (no loop over objects).

:func:`label_table` gives the same numbers as ``skimage.measure.regionprops_table`` for label, area, centroid,
bbox, eccentricity, axis lengths and intensity mean/min/max, with the same column names, but from
``np.bincount`` and ``scipy.ndimage`` sums over the whole image at once instead of one Python object per region:
on a 1024 x 1344 image with ~500 nuclei it takes a small fraction of regionprops' time.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def _validate_inputs(labels: np.ndarray, intensity: np.ndarray | None) -> None:
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"`labels` must be a (Y, X) integer array; received {labels.shape} {labels.dtype}")
    if intensity is not None and (intensity.ndim != 3 or intensity.shape[:2] != labels.shape):
        raise ValueError(f"`intensity` (shape {intensity.shape}) must be (Y, X, C) with the shape of `labels` "
                         f"(shape {labels.shape})")


def _inertia(dy: np.ndarray, dx: np.ndarray, flat: np.ndarray, n: int, area: np.ndarray,
             present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Major and minor axis lengths and eccentricity from the central second moments of each object."""
    def mean_of(values: np.ndarray) -> np.ndarray:
        return np.bincount(flat, weights=values, minlength=n)[present] / area

    my, mx = mean_of(dy), mean_of(dx)
    var_y = mean_of(dy * dy) - my * my  # moments about each object's bbox corner: little cancellation
    var_x = mean_of(dx * dx) - mx * mx
    cov = mean_of(dy * dx) - my * mx
    # skimage's inertia tensor is [[var_x, -cov], [-cov, var_y]]; its eigenvalues, largest first, clipped at 0
    half_sum, half_diff = (var_x + var_y) / 2, (var_x - var_y) / 2
    root = np.sqrt(half_diff * half_diff + cov * cov)
    big, small = np.clip(half_sum + root, 0, None), np.clip(half_sum - root, 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ecc = np.where(big == 0, 0.0, np.sqrt(np.clip(1 - small / np.where(big == 0, 1, big), 0, None)))
    return 4 * np.sqrt(big), 4 * np.sqrt(small), ecc


def label_table(labels: np.ndarray, intensity: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Columns of ``regionprops_table(labels, intensity, properties=("label", "area", "centroid", "bbox",
    "eccentricity", "axis_major_length", "axis_minor_length"[, "intensity_mean", "intensity_min",
    "intensity_max"]))``, one value per object present, sorted by label.

    Parameters
    ----------
    labels : (Y, X) ndarray of int
        Instance labels; 0 and negative values are background.
    intensity : (Y, X, C) ndarray of float, optional
        Intensities for ``intensity_mean-<c>``, ``intensity_min-<c>``, ``intensity_max-<c>``.

    Returns
    -------
    dict of str to (N,) ndarray
        Keys in regionprops' order: ``label``, ``area``, ``centroid-0/1``, ``bbox-0..3``, ``eccentricity``,
        ``axis_major_length``, ``axis_minor_length``, then the intensity columns.
    """
    _validate_inputs(labels, intensity)
    lab = np.where(labels > 0, labels, 0).astype(np.intp, copy=False)
    ys, xs = np.nonzero(lab)  # object pixels only: the background (most of the image) is never summed
    flat = lab[ys, xs]
    n = int(lab.max(initial=0)) + 1
    counts = np.bincount(flat, minlength=n)
    present = np.flatnonzero(counts)
    present = present[present > 0]
    boxes = [s for s in ndi.find_objects(lab) if s is not None]
    bbox = np.array([(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in boxes], np.int64).reshape(-1, 4)
    corner_y = np.zeros(n, np.float64)
    corner_x = np.zeros(n, np.float64)
    corner_y[present], corner_x[present] = bbox[:, 0], bbox[:, 1]
    dy, dx = ys - corner_y[flat], xs - corner_x[flat]
    area = counts[present].astype(np.float64)
    major, minor, ecc = _inertia(dy, dx, flat, n, area, present)
    table: dict[str, np.ndarray] = {
        "label": present.astype(np.int64), "area": area,
        "centroid-0": np.bincount(flat, weights=dy, minlength=n)[present] / area + bbox[:, 0],
        "centroid-1": np.bincount(flat, weights=dx, minlength=n)[present] / area + bbox[:, 1],
        **{f"bbox-{k}": bbox[:, k] for k in range(4)},
        "eccentricity": ecc, "axis_major_length": major, "axis_minor_length": minor,
    }
    if intensity is not None:
        table.update(_intensity_columns(lab, intensity, ys, xs, flat, n, area, present, boxes))
    return table


def _intensity_columns(lab: np.ndarray, intensity: np.ndarray, ys: np.ndarray, xs: np.ndarray, flat: np.ndarray,
                       n: int, area: np.ndarray, present: np.ndarray, boxes: list) -> dict[str, np.ndarray]:
    """``intensity_mean-<c>`` (one bincount), then ``intensity_min-<c>`` / ``intensity_max-<c>`` (within each
    object's bounding box, which is small: no sort of the whole image)."""
    channels = range(intensity.shape[-1])
    out: dict[str, np.ndarray] = {}
    for c in channels:
        values = np.asarray(intensity[ys, xs, c], np.float64)
        out[f"intensity_mean-{c}"] = np.bincount(flat, weights=values, minlength=n)[present] / area
    low = np.empty((len(present), len(channels)))
    high = np.empty_like(low)
    for i, (label, box) in enumerate(zip(present, boxes, strict=True)):
        inside = intensity[box][lab[box] == label]
        low[i], high[i] = inside.min(axis=0), inside.max(axis=0)
    out.update({f"intensity_min-{c}": low[:, c] for c in channels})
    out.update({f"intensity_max-{c}": high[:, c] for c in channels})
    return out

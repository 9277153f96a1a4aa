"""Per-object statistics of a label image in a few passes over the object pixels (no loop over objects).

:func:`label_table` gives the same numbers as ``skimage.measure.regionprops_table`` for label, area, centroid,
bbox, eccentricity, axis lengths and intensity mean/min/max, with the same column names. The object pixels are
listed once (``flatnonzero``) and grouped by label with one stable sort, so each statistic is one ``reduceat`` or
``bincount`` over them: moments are exact integer sums about each object's bounding-box corner, the bounding box
and the intensity minimum and maximum come from the groups, and the background is never visited twice. On a
1024 x 1344 image with ~650 nuclei it takes a small fraction of regionprops' time.
"""

from __future__ import annotations

import numpy as np


def _validate_inputs(labels: np.ndarray, intensity: np.ndarray | None) -> None:
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"`labels` must be a (Y, X) integer array; received {labels.shape} {labels.dtype}")
    if intensity is not None and (intensity.ndim != 3 or intensity.shape[:2] != labels.shape):
        raise ValueError(f"`intensity` (shape {intensity.shape}) must be (Y, X, C) with the shape of `labels` "
                         f"(shape {labels.shape})")


def _inertia(sums: dict[str, np.ndarray], area: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Major and minor axis lengths and eccentricity from each object's pixel sums about its bbox corner."""
    my, mx = sums["y"] / area, sums["x"] / area
    var_y = sums["yy"] / area - my * my  # moments about each object's bbox corner: little cancellation
    var_x = sums["xx"] / area - mx * mx
    cov = sums["xy"] / area - my * mx
    # skimage's inertia tensor is [[var_x, -cov], [-cov, var_y]]; its eigenvalues, largest first, clipped at 0
    half_sum, half_diff = (var_x + var_y) / 2, (var_x - var_y) / 2
    root = np.sqrt(half_diff * half_diff + cov * cov)
    big, small = np.clip(half_sum + root, 0, None), np.clip(half_sum - root, 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ecc = np.where(big == 0, 0.0, np.sqrt(np.clip(1 - small / np.where(big == 0, 1, big), 0, None)))
    return 4 * np.sqrt(big), 4 * np.sqrt(small), ecc


def _object_pixels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Raveled indices of the object pixels (raster order), their labels, the stable order that groups them by
    label (None when they already are: e.g. one object), and the start of each label's group in that order."""
    flat_labels = labels.ravel()
    index = np.flatnonzero(flat_labels > 0)
    flat = flat_labels[index].astype(np.intp)
    order = None
    if flat.size > 1 and not bool((flat[1:] >= flat[:-1]).all()):
        sort_key = flat.astype(np.uint16) if flat.max() < 65536 else flat  # radix sort
        order = np.argsort(sort_key, kind="stable")  # raster order within each label
    counts = np.bincount(flat)
    starts = np.concatenate([[0], np.cumsum(counts[counts > 0])[:-1]]).astype(np.intp) if index.size else \
        np.zeros(0, np.intp)
    return index, flat, order, starts


def label_table(labels: np.ndarray, intensity: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Columns of ``regionprops_table(labels, intensity, properties=("label", "area", "centroid", "bbox",
    "eccentricity", "axis_major_length", "axis_minor_length"[, "intensity_mean", "intensity_min",
    "intensity_max"]))``, one value per object present, sorted by label.

    Parameters
    ----------
    labels : (Y, X) ndarray of int
        Instance labels; 0 and negative values are background.
    intensity : (Y, X, C) ndarray, optional
        Intensities (any real dtype, read as float64) for ``intensity_mean-<c>``, ``intensity_min-<c>``,
        ``intensity_max-<c>``.

    Returns
    -------
    dict of str to (N,) ndarray
        Keys in regionprops' order: ``label``, ``area``, ``centroid-0/1``, ``bbox-0..3``, ``eccentricity``,
        ``axis_major_length``, ``axis_minor_length``, then the intensity columns.
    """
    _validate_inputs(labels, intensity)
    width = labels.shape[1]
    index, flat, order, starts = _object_pixels(labels)
    grouped = index if order is None else index[order]  # grouped by label, raster order within each
    present = (flat if order is None else flat[order])[starts] if index.size else np.zeros(0, np.intp)
    area_int = np.diff(np.append(starts, index.size))
    y = grouped // width
    x = grouped - y * width
    bbox = np.zeros((len(present), 4), np.int64)
    if index.size:
        bbox[:, 0], bbox[:, 2] = y[starts], y[np.append(starts[1:], index.size) - 1] + 1
        bbox[:, 1], bbox[:, 3] = np.minimum.reduceat(x, starts), np.maximum.reduceat(x, starts) + 1
    dy, dx = y - np.repeat(bbox[:, 0], area_int), x - np.repeat(bbox[:, 1], area_int)

    def total(values: np.ndarray) -> np.ndarray:  # exact integer sums per object, as float64
        return np.add.reduceat(values, starts).astype(np.float64) if index.size else np.zeros(0)

    sums = {"y": total(dy), "x": total(dx), "yy": total(dy * dy), "xx": total(dx * dx), "xy": total(dy * dx)}
    area = area_int.astype(np.float64)
    major, minor, ecc = _inertia(sums, area)
    table: dict[str, np.ndarray] = {
        "label": present.astype(np.int64), "area": area,
        "centroid-0": sums["y"] / area + bbox[:, 0], "centroid-1": sums["x"] / area + bbox[:, 1],
        **{f"bbox-{k}": bbox[:, k] for k in range(4)},
        "eccentricity": ecc, "axis_major_length": major, "axis_minor_length": minor,
    }
    if intensity is not None:
        table.update(_intensity_columns(intensity, index, flat, order, starts, present, area))
    return table


def _intensity_columns(intensity: np.ndarray, index: np.ndarray, flat: np.ndarray, order: np.ndarray | None,
                       starts: np.ndarray, present: np.ndarray, area: np.ndarray) -> dict[str, np.ndarray]:
    """``intensity_mean-<c>`` (one bincount in raster order, like the sums of regionprops), then
    ``intensity_min-<c>`` / ``intensity_max-<c>`` (one ``reduceat`` over the pixels grouped by label)."""
    n_channels = intensity.shape[-1]
    pixels = np.take(intensity.reshape(-1, n_channels), index, axis=0)  # object pixels only
    n = int(flat.max(initial=0)) + 1
    out: dict[str, np.ndarray] = {}
    low, high = {}, {}
    for c in range(n_channels):
        values = np.ascontiguousarray(pixels[:, c], dtype=np.float64)
        out[f"intensity_mean-{c}"] = np.bincount(flat, weights=values, minlength=n)[present] / area
        grouped = values if order is None else values[order]
        low[c] = np.minimum.reduceat(grouped, starts) if index.size else np.zeros(0)
        high[c] = np.maximum.reduceat(grouped, starts) if index.size else np.zeros(0)
    out.update({f"intensity_min-{c}": low[c] for c in range(n_channels)})
    out.update({f"intensity_max-{c}": high[c] for c in range(n_channels)})
    return out

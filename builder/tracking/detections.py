"""Objects of each frame of a labelled time-lapse: centroid, area and mean intensity per label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FrameObjects:
    """The objects of one frame, one row per label.

    Attributes
    ----------
    labels : (N,) int64 ndarray
        Label values in the frame's label image (sorted, 0 excluded).
    centroids : (N, 2) float64 ndarray
        (y, x) centre of each object, pixels.
    areas : (N,) float64 ndarray
        Pixels per object.
    intensities : (N,) float64 ndarray
        Mean image intensity inside each object (0 when no image is given).
    """

    labels: np.ndarray
    centroids: np.ndarray
    areas: np.ndarray
    intensities: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def radii(self) -> np.ndarray:
        """Radius of the disc with each object's area."""
        return np.sqrt(self.areas / np.pi)


def frame_objects(labels: np.ndarray, image: np.ndarray | None = None) -> FrameObjects:
    """Measure every object of one (Y, X) label image (``image``: the raw (Y, X[, C]) frame, optional)."""
    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise ValueError(f"`labels` must be one (Y, X) label image. Received: shape={lab.shape}")
    flat = lab.ravel()
    where = np.flatnonzero(flat)  # only object pixels are visited (fast on large, sparse frames)
    values = flat[where].astype(np.int64, copy=False)
    present = np.unique(values)
    if len(present) == 0:
        empty = np.zeros(0)
        return FrameObjects(present.astype(np.int64), np.zeros((0, 2)), empty, empty)
    compact = np.searchsorted(present, values)
    n = len(present)
    area = np.bincount(compact, minlength=n).astype(np.float64)
    width = lab.shape[1]
    cy = np.bincount(compact, weights=(where // width).astype(np.float64), minlength=n) / area
    cx = np.bincount(compact, weights=(where % width).astype(np.float64), minlength=n) / area
    if image is not None:
        img = np.asarray(image)
        if img.ndim == 3:
            img = img.mean(axis=-1)
        inten = np.bincount(compact, weights=img.ravel()[where].astype(np.float64), minlength=n) / area
    else:
        inten = np.zeros(n)
    return FrameObjects(present.astype(np.int64), np.stack([cy, cx], axis=1), area, inten)


def overlap_matrix(a: np.ndarray, b: np.ndarray, objects_a: FrameObjects, objects_b: FrameObjects) -> np.ndarray:
    """(N_a, N_b) intersection-over-union of the objects of two label images of the same shape."""
    out = np.zeros((len(objects_a), len(objects_b)))
    if not len(objects_a) or not len(objects_b):
        return out
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    both = np.flatnonzero(a)
    both = both[b[both] > 0]
    if not len(both):
        return out
    ia = np.searchsorted(objects_a.labels, a[both].astype(np.int64))
    ib = np.searchsorted(objects_b.labels, b[both].astype(np.int64))
    inter = np.bincount(ia * len(objects_b) + ib, minlength=out.size).reshape(out.shape).astype(np.float64)
    union = objects_a.areas[:, None] + objects_b.areas[None, :] - inter
    return np.where(inter > 0, inter / np.maximum(union, 1), 0.0)

"""Star-convex instance target: object probability plus distances to the object's edge along K rays.

Each object pixel is described by how far its own object extends from it in :data:`N_RAYS` directions
(evenly spaced angles, ray ``k`` at ``2 pi k / K``, measured from the +X axis towards +Y). A pixel near an
object's centre therefore predicts the whole outline of that object as a polygon, so two touching nuclei
are two polygons around two centres, whatever the boundary between them looks like.

Channels of the target and of the network output (``1 + K``):

- 0: object probability, the distance of the pixel to its own object's edge (its shortest ray) divided by
  the largest such distance in that object (1 at the centre, small at the edge, 0 in the background).
  Candidates for polygons are pixels above ``threshold``; the most central ones are kept first.
- 1..K: ray distances in pixels of the network's grid (0 in the background).

Training targets are made for patches, and an object cut by the patch's border continues beyond it: a ray that
reaches the border has no known length (:data:`~builder.tasks.label_arrays.NO_TARGET`, which the star loss
skips), and the probability of such an object comes from its rays that end inside the patch. Were the border
taken for the object's edge, half of the nuclei in a 64-pixel patch would teach the network rays that are too
short and centres that sit too far inside.

:mod:`builder.tasks.star_nms` turns a predicted output into instance labels.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

#: Number of rays per pixel (the head has ``1 + N_RAYS`` output channels).
N_RAYS = 32
#: The head's distance outputs are learned in units of this many pixels (then multiplied by it).
RAY_UNIT = 10.0
#: Step along a ray when looking for the object's edge, in pixels (the last step is halved once more). A diagonal
#: step may pass a pixel corner, but a ray stops at the first pixel of any other label, so only a one-pixel-wide
#: diagonal notch of background inside the object itself can be stepped over.
RAY_STEP = 1.0


def ray_angles(n_rays: int = N_RAYS) -> np.ndarray:
    """The ray angles in radians, ``2 pi k / n_rays`` for ``k = 0 .. n_rays - 1``."""
    return np.arange(n_rays) * (2.0 * np.pi / n_rays)


def ray_distances(labels: np.ndarray, n_rays: int = N_RAYS) -> np.ndarray:
    """Distance from every object pixel to its own object's edge along ``n_rays`` rays.

    Rays that reach the image border stop there (see :func:`rays_and_border` for which ones did).

    The edge is where the ray first meets a pixel of another label (background, a touching object, or the
    image border); the distance is measured to the middle of the last step, so a disk of radius ``r`` pixels
    gets ``r + 0.5`` (the outer edge of its outermost pixels) on every ray within half a step (plus the
    staircase of the pixel outline).

    Parameters
    ----------
    labels : (Y, X) int array
        Instance labels, 0 = background.
    n_rays : int

    Returns
    -------
    (Y, X, n_rays) float32 array
        0 in the background.
    """
    return rays_and_border(labels, n_rays)[0]


def rays_and_border(labels: np.ndarray, n_rays: int = N_RAYS) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ray_distances` and, per ray, whether it stopped at the image border rather than at an edge.

    Returns
    -------
    distances : (Y, X, n_rays) float32 array
    at_border : (Y, X, n_rays) bool array
        True where the ray left the image inside its object (its length beyond the image is unknown).
    """
    lab = np.asarray(labels)
    dist = np.zeros((*lab.shape, n_rays), np.float32)
    border = np.zeros((*lab.shape, n_rays), bool)
    ys, xs, d, b = _march(lab, n_rays)
    dist[ys, xs], border[ys, xs] = d, b
    return dist, border


def _march(lab: np.ndarray, n_rays: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns of the object pixels (label > 0), their ``(n, n_rays)`` ray lengths, and whether each
    ray left the image.

    All object pixels march together, ray step by ray step, over the label image framed by a border of "outside"
    pixels; the samples of step ``t`` lie at the same offset from every pixel (rounded once), so the result does
    not depend on where an object lies in the image (a patch and the whole image agree on every ray that ends
    inside the patch).
    """
    height, width = lab.shape
    ys, xs = np.nonzero(lab > 0)
    dist = np.zeros(ys.size * n_rays, np.float32)
    left = np.zeros(ys.size * n_rays, bool)
    if ys.size == 0:
        return ys, xs, dist.reshape(0, n_rays), left.reshape(0, n_rays)
    # a step moves a sample by at most ceil(RAY_STEP) pixels per axis: a frame that wide catches every ray leaving
    pad = int(np.ceil(RAY_STEP))
    outside = min(int(lab.min()), 0) - 1
    framed = np.pad(lab.astype(np.int32 if lab.max() < 2**31 else np.int64), pad, constant_values=outside).ravel()
    stride = width + 2 * pad
    # 32-bit positions halve the memory traffic of every step (the framed image of a patch is far below 2**31)
    index_type = np.int32 if framed.size < 2**30 else np.intp
    full, half, lengths = _offset_tables(height, width, pad, n_rays, index_type)

    # one entry per (pixel, ray) still inside its object: flat position, own label, ray, index into the result
    start = np.repeat((ys + pad) * stride + xs + pad, n_rays).astype(index_type)
    own = framed[start]
    ray = np.tile(np.arange(n_rays, dtype=index_type), ys.size)
    index = np.arange(ys.size * n_rays, dtype=index_type)
    for step, t in enumerate(lengths):
        seen = framed[start + full[step][ray]]
        out = seen != own
        if not out.any():
            continue
        ended = np.flatnonzero(out)
        # the edge lies within the last step: look half a step back to halve the error
        ok = framed[start[ended] + half[step][ray[ended]]] == own[ended]
        dist[index[ended]] = np.where(ok, t - RAY_STEP / 4, t - 3 * RAY_STEP / 4)
        left[index[ended]] = seen[ended] == outside
        same = ~out
        start, own, ray, index = start[same], own[same], ray[same], index[same]
        if not index.size:
            break
    if index.size:  # pragma: no cover - the tables reach the frame from every pixel
        raise AssertionError(f"{index.size} rays did not reach the edge of their object")
    return ys, xs, dist.reshape(ys.size, n_rays), left.reshape(ys.size, n_rays)


@functools.lru_cache(maxsize=16)
def _offset_tables(height: int, width: int, pad: int, n_rays: int,
                   index_type: type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat offsets of every ray's samples in the framed image, computed once per image size.

    Returns ``full`` and ``half``, ``(steps, n_rays)`` offsets of the samples at ``t`` and at ``t - RAY_STEP / 2``
    for ``t = RAY_STEP, 2 RAY_STEP, ...``, and the step lengths ``t``: enough steps to leave the framed image
    from any pixel in any direction. Each offset is rounded once from its exact position, as before.
    """
    stride = width + 2 * pad
    angles = ray_angles(n_rays)
    sin, cos = np.sin(angles), np.cos(angles)
    # no segment inside the framed image is longer than its diagonal: one more step always reaches the frame
    lengths = np.arange(1, int(np.ceil(np.hypot(height + 2 * pad, width + 2 * pad) / RAY_STEP)) + 3) * RAY_STEP

    def offsets(t: np.ndarray) -> np.ndarray:
        table = (np.rint(t[:, None] * sin) * stride + np.rint(t[:, None] * cos)).astype(index_type)
        table.flags.writeable = False
        return table

    lengths.flags.writeable = False
    return offsets(lengths), offsets(lengths - RAY_STEP / 2), lengths


def star_convex_target(labels: Any, n_rays: int = N_RAYS) -> np.ndarray:
    """The ``(Y, X, 1 + n_rays)`` float32 training target: object probability, then the ray distances.

    Parameters
    ----------
    labels : (Y, X) or (Y, X, 1) array of int
        Instance labels, 0 = background.
    n_rays : int

    Returns
    -------
    (Y, X, 1 + n_rays) ndarray of float32
        Pixels with a negative label (cells nobody outlined) have probability
        :data:`~builder.tasks.label_arrays.NO_TARGET` (the loss skips them) and no rays. Rays that reach the
        image border are :data:`~builder.tasks.label_arrays.NO_TARGET` too (their length is unknown), and the
        probability of such a pixel comes from its other rays (from all of them when every ray reaches the border).
    """
    from builder.tasks.label_arrays import NO_TARGET, labels_2d

    lab, _ = labels_2d(labels)
    ignored = lab < 0
    lab = np.where(ignored, 0, lab)
    out = np.zeros((*lab.shape, 1 + n_rays), np.float32)
    ys, xs, rays, at_border = _march(lab, n_rays)
    if ys.size:
        # distance to the object's edge: the shortest ray that ends at an edge inside the image
        near = np.where(at_border, np.inf, rays).min(axis=1)
        near = np.where(np.isfinite(near), near, rays.min(axis=1))
        own = lab[ys, xs]
        peak = np.zeros(int(own.max()) + 1, np.float32)
        np.maximum.at(peak, own, near)
        out[ys, xs, 0] = near / np.maximum(peak[own], 1e-6)
        rays[at_border] = NO_TARGET
        out[ys, xs, 1:] = rays
    out[ignored, 0] = NO_TARGET
    return out


def polygon_vertices(y: float, x: float, distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates of the polygon a pixel at ``(y, x)`` predicts from its ray ``distances``."""
    angles = ray_angles(distances.size)
    d = np.maximum(np.asarray(distances, np.float64), 0.0)
    return y + d * np.sin(angles), x + d * np.cos(angles)

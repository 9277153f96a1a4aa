"""Instance labels from a star-convex prediction: polygons, non-maximum suppression, rasterised labels.

Every pixel whose object probability exceeds ``threshold`` proposes the polygon its ray distances describe
(see :mod:`builder.tasks.star_convex`). Proposals are visited from the most to the least central (highest
probability first); a proposal is kept when at most ``nms_threshold`` of its pixels already belong to kept
objects, and then owns its not-yet-owned pixels. A proposal made from a pixel that already lies inside a kept
object describes that object again and is skipped without drawing it, which keeps a 1024 x 1024 image with a
thousand nuclei well under a second (see ``tests/benchmarks/realdata_nuclei_targets.py --speed``).

Because a proposal that covers two kept nuclei is refused, a polygon that would merge two touching nuclei
cannot replace the two polygons centred on them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from builder.errors import DataError

#: Smallest polygon (pixels) ever proposed, whatever ``min_size`` says.
MIN_AREA = 3.0


def _check_star_output(pred: Any) -> np.ndarray:
    p = np.asarray(pred, dtype=np.float32)
    if p.ndim != 3 or p.shape[-1] < 4:
        raise DataError("instance post-processing", f"A star-convex output must be (Y, X, 1 + rays) with at least "
                        f"3 rays; received shape {p.shape}.", "Use a model trained with "
                        "train.instance_target: star_convex, or set instance_target to the target it was trained "
                        "with.")
    return p


def polygon_pixels(y: float, x: float, distances: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixels (centres) inside the polygon of the pixel at ``(y, x)``, clipped to ``shape``."""
    from skimage.draw import polygon

    from builder.tasks.star_convex import polygon_vertices

    rows, cols = polygon_vertices(y, x, distances)
    rr, cc = polygon(rows, cols, shape)
    if rr.size == 0:  # thinner than a pixel: the proposing pixel itself
        rr, cc = np.array([int(y)]), np.array([int(x)])
    return rr, cc


def polygon_areas(dist: np.ndarray) -> np.ndarray:
    """Area in pixels of the polygons described by ray distances ``(..., K)`` (sum of the K triangles)."""
    d = np.maximum(np.asarray(dist, np.float64), 0.0)
    k = d.shape[-1]
    return 0.5 * np.sin(2.0 * np.pi / k) * np.sum(d * np.roll(d, -1, axis=-1), axis=-1)


def star_nms(prob: np.ndarray, dist: np.ndarray, *, threshold: float = 0.5, nms_threshold: float = 0.4,
             min_area: float = 1.0) -> np.ndarray:
    """Greedy non-maximum suppression of the polygons proposed by pixels with ``prob > threshold``.

    Parameters
    ----------
    prob : (Y, X) float array
        Object probability (higher = more central).
    dist : (Y, X, K) float array
        Ray distances in pixels.
    threshold : float
        Smallest probability of a proposing pixel.
    nms_threshold : float
        Largest fraction of a proposal's pixels that may already belong to kept objects.
    min_area : float
        Polygons smaller than this (pixels, computed from the distances) are not proposed: an untrained or
        uncertain network would otherwise propose every pixel as an object of its own.

    Returns
    -------
    (Y, X) int32 array
        Labels 1..N in the order the objects were kept (0 = background).
    """
    shape = prob.shape
    labels = np.zeros(shape, np.int32)
    ys, xs = np.nonzero(prob > threshold)
    big = polygon_areas(dist[ys, xs]) >= min_area
    ys, xs = ys[big], xs[big]
    order = np.argsort(-prob[ys, xs], kind="stable")
    n = 0
    for i in order:
        y, x = ys[i], xs[i]
        if labels[y, x]:
            continue
        rr, cc = polygon_pixels(y, x, dist[y, x], shape)
        free = labels[rr, cc] == 0
        if 1.0 - free.mean() > nms_threshold:
            continue
        n += 1
        labels[rr[free], cc[free]] = n
    return labels


def instances_from_star(pred: Any, *, threshold: float = 0.5, nms_threshold: float = 0.4, min_size: int = 10
                        ) -> np.ndarray:
    """Instance labels from a star-convex network output.

    Parameters
    ----------
    pred : (Y, X, 1 + K) array of float
        Channel 0 object probability, channels 1..K ray distances (pixels).
    threshold : float
        Object probability above which a pixel proposes a polygon.
    nms_threshold : float
        Largest overlap (fraction of the proposal already taken by kept objects) a kept polygon may have.
    min_size : int
        Smallest object kept, in pixels.

    Returns
    -------
    (Y, X) ndarray of int32
    """
    from skimage.segmentation import relabel_sequential

    p = _check_star_output(pred)
    labels = star_nms(p[..., 0], p[..., 1:], threshold=threshold, nms_threshold=nms_threshold,
                      min_area=max(float(min_size), MIN_AREA))
    if min_size > 0 and labels.max() > 0:
        small = np.bincount(labels.ravel()) < min_size
        small[0] = False
        labels[small[labels]] = 0
    return relabel_sequential(labels)[0].astype(np.int32)

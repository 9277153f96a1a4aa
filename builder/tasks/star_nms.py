"""Instance labels from a star-convex prediction: polygons, non-maximum suppression, rasterised labels.

Every pixel whose object probability exceeds ``threshold`` proposes the polygon its ray distances describe
(see :mod:`builder.tasks.star_convex`). Proposals are visited from the most to the least central (highest
probability first); a proposal is kept when at most ``nms_threshold`` of its pixels already belong to kept
objects, and then owns its not-yet-owned pixels. A proposal made from a pixel that already lies inside a kept
object describes that object again and is skipped without drawing it, which keeps a 1024 x 1024 image with a
thousand nuclei well under a second (see ``tests/benchmarks/realdata_nuclei_targets.py --speed``).

Because a proposal that covers two kept nuclei is refused, a polygon that would merge two touching nuclei
cannot replace the two polygons centred on them.

A network that ran at object scale (``preprocess.object_diameter``) gives its output on a coarser grid than the
image. Its polygons are suppressed on that grid (fewer proposals, smaller polygons) and only the kept ones are
then drawn at the image's size, centre and rays stretched by the zoom, in the same order and with the same
"owns the pixels no earlier polygon owns" rule (:func:`draw_polygons`); interpolating all ``1 + K`` channels to
the image's size first and suppressing there cost three times as long on a 1024 x 1344 nuclei image.
Polygons are filled by :func:`builder.tasks.star_raster.star_pixels`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from builder.errors import DataError
from builder.tasks.label_order import descending_order, keep_and_renumber

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


def polygon_pixels(y: float, x: float, distances: np.ndarray, shape: tuple[int, int],
                   zoom: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixels (centres) inside the polygon of the pixel at ``(y, x)``, clipped to ``shape``
    (see :func:`builder.tasks.star_raster.star_pixels`)."""
    from builder.tasks.star_raster import star_pixels

    return star_pixels(y, x, distances, shape, zoom)


def polygon_areas(dist: np.ndarray) -> np.ndarray:
    """Area in pixels of the polygons described by ray distances ``(..., K)`` (sum of the K triangles)."""
    d = np.maximum(np.asarray(dist, np.float64), 0.0)
    k = d.shape[-1]
    return 0.5 * np.sin(2.0 * np.pi / k) * np.sum(d * np.roll(d, -1, axis=-1), axis=-1)


#: Proposals whose polygon areas are computed at once (float64 temporaries of 1 MB with 32 rays).
AREA_CHUNK = 1 << 12


def large_proposals(dist: np.ndarray, ys: np.ndarray, xs: np.ndarray, min_area: float) -> np.ndarray:
    """Whether the polygon of each pixel ``(ys, xs)`` of ``dist`` (Y, X, K) covers at least ``min_area`` pixels:
    ``polygon_areas(dist[ys, xs]) >= min_area``, a chunk of proposals at a time.

    An untrained network proposes at almost every pixel, polygons of under a pixel: their rays in float64 (and a
    rolled copy) took about 0.9 GB at once and most of the 0.6-0.9 CPU s of post-processing a 1024 x 1344 output
    (0.15-0.24 CPU s with this bound, tests/benchmarks/bench_predict_speed.py). A polygon is at most
    ``K`` triangles of its longest ray, so only those whose longest ray allows ``min_area`` are measured.
    """
    large = np.zeros(ys.size, bool)
    k = dist.shape[-1]
    most = 0.5 * np.sin(2.0 * np.pi / k) * k * (1.0 + 1e-6)  # area bound per squared longest ray, rounding included
    for start in range(0, ys.size, AREA_CHUNK):
        rays = dist[ys[start:start + AREA_CHUNK], xs[start:start + AREA_CHUNK]]
        longest = np.maximum(rays.max(axis=1, initial=0.0), 0.0).astype(np.float64)
        could = np.flatnonzero(most * longest * longest >= min_area)
        large[start + could] = polygon_areas(rays[could]) >= min_area
    return large


def kept_polygons(prob: np.ndarray, dist: np.ndarray, *, threshold: float = 0.5, nms_threshold: float = 0.4,
                  min_area: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Greedy non-maximum suppression on the output's own grid: the proposing pixels of the kept polygons.

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
    ys, xs : int arrays
        Rows and columns of the kept proposals, in the order they were kept (label 1, 2, ...).
    """
    kept = nms_labels(prob, dist, threshold=threshold, nms_threshold=nms_threshold, min_area=min_area)[1]
    return kept[:, 0], kept[:, 1]


def nms_labels(prob: np.ndarray, dist: np.ndarray, *, threshold: float = 0.5, nms_threshold: float = 0.4,
               min_area: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`kept_polygons` with the labels drawn on the same grid: ``(labels (Y, X) int32, kept (N, 2))``."""
    shape = prob.shape
    labels = np.zeros(shape, np.int32)
    ys, xs = np.nonzero(prob > threshold)
    big = large_proposals(dist, ys, xs, min_area)
    ys, xs = ys[big], xs[big]
    order = descending_order(prob[ys, xs])
    flat = labels.ravel()  # a view: a skipped proposal costs one look-up
    width = shape[1]
    kept: list[tuple[int, int]] = []
    for y, x in zip(ys[order].tolist(), xs[order].tolist(), strict=True):
        if flat[y * width + x]:
            continue
        rr, cc = polygon_pixels(y, x, dist[y, x], shape)
        free = labels[rr, cc] == 0
        if 1.0 - free.mean() > nms_threshold:
            continue
        kept.append((y, x))
        labels[rr[free], cc[free]] = len(kept)
    return labels, np.array(kept, np.intp).reshape(-1, 2)


def draw_polygons(ys: np.ndarray, xs: np.ndarray, prob: np.ndarray, dist: np.ndarray, shape: tuple[int, int],
                  zoom: tuple[float, float]) -> np.ndarray:
    """Labels at the image's ``shape`` from the polygons kept at grid pixels ``(ys, xs)`` (in this order), each
    owning the pixels no earlier polygon owns.

    Grid pixel ``(y, x)`` covers the image pixels whose centres map into its cell (image row ``i`` lies at grid
    row ``(i + 0.5) / zoom_y - 0.5``, the mapping of :func:`builder.data.preprocess.resize_yx`). Of these, the one
    where the linearly interpolated probability is highest proposes the polygon, with the rays interpolated there
    (as :func:`~builder.data.preprocess.resize_yx` would) and stretched by ``zoom`` (by the mean zoom when the two
    differ by under 1 %): the polygon that pixel would propose in the interpolated output, found without
    interpolating the output.
    """
    from builder.data.linear_resize import axis_weights

    labels = np.zeros(shape, np.int32)
    zy, zx = float(zoom[0]), float(zoom[1])
    weights = (axis_weights(prob.shape[0], shape[0]), axis_weights(prob.shape[1], shape[1]))
    # zooms that differ by under 1 % (the rounding of the network's grid) stretch the rays alike, by their mean
    # (as interpolating the output did), which lets the filler use its table of offsets
    same = abs(zy - zx) <= 0.01 * max(zy, zx)
    stretch, rest = ((zy + zx) / 2, (1.0, 1.0)) if same else (1.0, (zy, zx))
    for n, (y, x) in enumerate(zip(ys.tolist(), xs.tolist(), strict=True), start=1):
        cy, cx, rays = _proposer(prob, dist, y, x, (zy, zx), weights)
        rr, cc = polygon_pixels(cy, cx, rays * stretch, shape, rest)
        free = labels[rr, cc] == 0
        labels[rr[free], cc[free]] = n
    return labels


def _cell_span(index: int, zoom: float, size: int) -> tuple[int, int]:
    """``(first, stop)`` of the image rows (or columns) whose centres map into grid cell ``index`` (at least the
    nearest one)."""
    first = math.ceil(index * zoom - 0.5)
    last = math.ceil((index + 1) * zoom - 0.5) - 1
    return max(first, 0), min(max(last, first), size - 1) + 1


def _cell(index: int, zoom: float, size: int) -> np.ndarray:
    """Image rows (or columns) whose centres map into grid cell ``index`` (at least the nearest one)."""
    return np.arange(*_cell_span(index, zoom, size))


def _cells(first: int, last: int, zoom: float, size: int) -> np.ndarray:
    """:func:`_cell` of the grid cells ``first .. last``, one after the other."""
    rows: list[int] = []
    for index in range(first, last + 1):
        rows.extend(range(*_cell_span(index, zoom, size)))
    return np.array(rows, np.intp)


def _proposer(prob: np.ndarray, dist: np.ndarray, y: int, x: int, zoom: tuple[float, float],
              weights: tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]) -> tuple[float, float, np.ndarray]:
    """Image pixel ``(row, column)`` proposing grid pixel ``(y, x)``'s polygon and its interpolated rays (grid
    pixels), see :func:`draw_polygons`; ``weights``: :func:`~builder.data.linear_resize.axis_weights` of Y and X.

    Called once per kept polygon: the cells are found with Python integers and the four neighbours gathered
    without copying whole grid rows (0.045 -> 0.031 s for the 664 nuclei of a 1024 x 1344 image at object scale).
    """
    (row_lo, row_hi, row_w), (col_lo, col_hi, col_w) = weights
    # neighbours exactly as probable (a plateau, e.g. an object two pixels wide) share the maximum: look at their
    # cells too, so the first image pixel of the plateau proposes, as in the interpolated output
    top, left = max(y - 1, 0), max(x - 1, 0)
    ty, tx = np.nonzero(prob[top:y + 2, left:x + 2] == prob[y, x])
    rows = _cells(top + int(ty.min()), top + int(ty.max()), zoom[0], row_lo.size)
    cols = _cells(left + int(tx.min()), left + int(tx.max()), zoom[1], col_lo.size)
    if rows.size == 0 or cols.size == 0:
        return (y + 0.5) * zoom[0] - 0.5, (x + 0.5) * zoom[1] - 0.5, dist[y, x]
    y0, y1, fy = row_lo[rows], row_hi[rows], row_w[rows][:, None]
    x0, x1, fx = col_lo[cols], col_hi[cols], col_w[cols][None, :]
    r0, r1 = y0[:, None], y1[:, None]
    p = ((1 - fy) * ((1 - fx) * prob[r0, x0] + fx * prob[r0, x1])
         + fy * ((1 - fx) * prob[r1, x0] + fx * prob[r1, x1]))
    i, j = divmod(int(np.argmax(p)), p.shape[1])
    a, b = float(fy[i, 0]), float(fx[0, j])
    rays = ((1 - a) * ((1 - b) * dist[y0[i], x0[j]] + b * dist[y0[i], x1[j]])
            + a * ((1 - b) * dist[y1[i], x0[j]] + b * dist[y1[i], x1[j]]))
    return float(rows[i]), float(cols[j]), rays


def star_nms(prob: np.ndarray, dist: np.ndarray, *, threshold: float = 0.5, nms_threshold: float = 0.4,
             min_area: float = 1.0, shape: tuple[int, int] | None = None,
             zoom: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Greedy non-maximum suppression of the polygons proposed by pixels with ``prob > threshold``
    (:func:`kept_polygons`), drawn as labels on the output's grid or, given ``shape`` and ``zoom``, at the
    image's size (:func:`draw_polygons`).

    ``min_area`` is in pixels of the image (``shape``): on the grid a polygon covers ``zoom_y * zoom_x`` times
    fewer pixels.

    Returns
    -------
    (Y, X) int32 array
        Labels 1..N in the order the objects were kept (0 = background).
    """
    zy, zx = float(zoom[0]), float(zoom[1])
    labels, kept = nms_labels(prob, dist, threshold=threshold, nms_threshold=nms_threshold,
                              min_area=min_area / (zy * zx))
    if shape is None or (tuple(shape) == tuple(prob.shape) and zy == zx == 1.0):
        return labels
    return draw_polygons(kept[:, 0], kept[:, 1], prob, dist, (int(shape[0]), int(shape[1])), (zy, zx))


def instances_from_star(pred: Any, *, threshold: float = 0.5, nms_threshold: float = 0.4, min_size: int = 10
                        ) -> np.ndarray:
    """Instance labels from a star-convex network output.

    Parameters
    ----------
    pred : (Y, X, 1 + K) array of float, or a :class:`~builder.tasks.zoomed_output.ZoomedOutput` of one
        Channel 0 object probability, channels 1..K ray distances (pixels). A zoomed output is suppressed on
        the network's grid and its kept polygons drawn at the image's size.
    threshold : float
        Object probability above which a pixel proposes a polygon.
    nms_threshold : float
        Largest overlap (fraction of the proposal already taken by kept objects) a kept polygon may have.
    min_size : int
        Smallest object kept, in pixels.

    Returns
    -------
    (Y, X) ndarray of int32
        At the image's size; ``min_size`` is in its pixels.
    """
    from builder.tasks.zoomed_output import ZoomedOutput

    if isinstance(pred, ZoomedOutput):  # suppression on the network's grid, polygons drawn at the image's size
        p = _check_star_output(pred.grid)
        labels = star_nms(p[..., 0], p[..., 1:], threshold=threshold, nms_threshold=nms_threshold,
                          min_area=max(float(min_size), MIN_AREA), shape=pred.image_shape, zoom=pred.zoom)
    else:
        p = _check_star_output(pred)
        labels = star_nms(p[..., 0], p[..., 1:], threshold=threshold, nms_threshold=nms_threshold,
                          min_area=max(float(min_size), MIN_AREA))
    return keep_and_renumber(labels, min_size)

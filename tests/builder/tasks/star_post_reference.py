"""The star-convex post-processing as it was before it was batched: one polygon at a time (test reference only).

This is Cellwright's own earlier code (``builder/tasks/star_nms.py`` and ``star_raster.py`` up to commit b386ea1),
kept self-contained here (its own offset table, inside test, proposer and renumbering) so that
``test_star_post_batched.py`` can check that the batched post-processing gives exactly the same label images.
"""

from __future__ import annotations

import math

import numpy as np

from builder.data.linear_resize import axis_weights


def _sector_geometry(dy: np.ndarray, dx: np.ndarray, n_rays: int) -> tuple[np.ndarray, ...]:
    step = 2.0 * np.pi / n_rays
    angle = np.arctan2(dy, dx)
    angle = np.where(angle < 0, angle + 2.0 * np.pi, angle)
    k = np.minimum((angle / step).astype(np.intp), n_rays - 1)
    k1 = np.where(k + 1 == n_rays, 0, k + 1)
    angles = np.arange(n_rays) * (2.0 * np.pi / n_rays)
    cos, sin = np.cos(angles), np.sin(angles)
    return k, k1, dy * cos[k] - dx * sin[k], dx * sin[k1] - dy * cos[k1], dy * dy + dx * dx


def _inside(geometry: tuple[np.ndarray, ...], distances: np.ndarray) -> np.ndarray:
    k, k1, past_k, short_of_k1, r2 = geometry
    d = np.maximum(np.asarray(distances, np.float64), 0.0)
    d0, d1 = d[k], d[k1]
    inside = past_k * d0 + short_of_k1 * d1 <= d0 * d1 * np.sin(2.0 * np.pi / d.size)
    return inside & (r2 <= np.maximum(d0, d1) ** 2)


def star_pixels(cy: float, cx: float, distances: np.ndarray, shape: tuple[int, int],
                zoom: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixel centres inside one star polygon (the rounded centre when none is)."""
    d = np.maximum(np.asarray(distances, np.float64), 0.0)
    reach = float(d.max()) if d.size else 0.0
    zy, zx = float(zoom[0]), float(zoom[1])
    top, bottom = max(int(np.ceil(cy - reach * zy)), 0), min(int(np.floor(cy + reach * zy)), shape[0] - 1)
    left, right = max(int(np.ceil(cx - reach * zx)), 0), min(int(np.floor(cx + reach * zx)), shape[1] - 1)
    if top <= bottom and left <= right:
        rows = np.arange(top, bottom + 1, dtype=np.float64)
        cols = np.arange(left, right + 1, dtype=np.float64)
        dy, dx = np.broadcast_arrays(((rows - cy) / zy)[:, None], ((cols - cx) / zx)[None, :])
        rr, cc = np.nonzero(_inside(_sector_geometry(dy, dx, d.size), d))
        if rr.size:
            return rr + top, cc + left
    y, x = int(round(cy)), int(round(cx))
    if 0 <= y < shape[0] and 0 <= x < shape[1]:
        return np.array([y]), np.array([x])
    return np.zeros(0, np.intp), np.zeros(0, np.intp)


def _areas(dist: np.ndarray) -> np.ndarray:
    d = np.maximum(np.asarray(dist, np.float64), 0.0)
    return 0.5 * np.sin(2.0 * np.pi / d.shape[-1]) * np.sum(d * np.roll(d, -1, axis=-1), axis=-1)


def nms_labels(prob: np.ndarray, dist: np.ndarray, threshold: float, nms_threshold: float, min_area: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Greedy suppression on the output's grid, one proposal at a time: labels and kept ``(N, 2)``."""
    labels = np.zeros(prob.shape, np.int32)
    ys, xs = np.nonzero(prob > threshold)
    big = _areas(dist[ys, xs]) >= min_area
    ys, xs = ys[big], xs[big]
    order = np.argsort(-prob[ys, xs], kind="stable")
    kept: list[tuple[int, int]] = []
    for y, x in zip(ys[order].tolist(), xs[order].tolist(), strict=True):
        if labels[y, x]:
            continue
        rr, cc = star_pixels(y, x, dist[y, x], prob.shape)
        free = labels[rr, cc] == 0
        if 1.0 - free.mean() > nms_threshold:
            continue
        kept.append((y, x))
        labels[rr[free], cc[free]] = len(kept)
    return labels, np.array(kept, np.intp).reshape(-1, 2)


def _cells(first: int, last: int, zoom: float, size: int) -> np.ndarray:
    rows: list[int] = []
    for index in range(first, last + 1):
        lo = math.ceil(index * zoom - 0.5)
        hi = math.ceil((index + 1) * zoom - 0.5) - 1
        rows.extend(range(max(lo, 0), min(max(hi, lo), size - 1) + 1))
    return np.array(rows, np.intp)


def proposer(prob: np.ndarray, dist: np.ndarray, y: int, x: int, zoom: tuple[float, float],
             weights: tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]) -> tuple[float, float, np.ndarray]:
    """The image pixel proposing grid pixel ``(y, x)``'s polygon and the rays interpolated there."""
    (row_lo, row_hi, row_w), (col_lo, col_hi, col_w) = weights
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


def draw_polygons(ys: np.ndarray, xs: np.ndarray, prob: np.ndarray, dist: np.ndarray, shape: tuple[int, int],
                  zoom: tuple[float, float]) -> np.ndarray:
    """The kept polygons drawn at the image's size, one at a time, each owning the pixels no earlier one owns."""
    labels = np.zeros(shape, np.int32)
    zy, zx = float(zoom[0]), float(zoom[1])
    weights = (axis_weights(prob.shape[0], shape[0]), axis_weights(prob.shape[1], shape[1]))
    same = abs(zy - zx) <= 0.01 * max(zy, zx)
    stretch, rest = ((zy + zx) / 2, (1.0, 1.0)) if same else (1.0, (zy, zx))
    for n, (y, x) in enumerate(zip(ys.tolist(), xs.tolist(), strict=True), start=1):
        cy, cx, rays = proposer(prob, dist, y, x, (zy, zx), weights)
        rr, cc = star_pixels(cy, cx, rays * stretch, shape, rest)
        free = labels[rr, cc] == 0
        labels[rr[free], cc[free]] = n
    return labels


def instances_from_star(output: np.ndarray, image_shape: tuple[int, int] | None = None, *, threshold: float = 0.5,
                        nms_threshold: float = 0.4, min_size: int = 10) -> np.ndarray:
    """Labels from a star output ``(Y', X', 1 + K)`` on its grid, drawn at ``image_shape`` (default: the grid's)."""
    p = np.asarray(output, np.float32)
    shape = tuple(image_shape or p.shape[:2])
    zy, zx = shape[0] / p.shape[0], shape[1] / p.shape[1]
    labels, kept = nms_labels(p[..., 0], p[..., 1:], threshold, nms_threshold,
                              max(float(min_size), 3.0) / (zy * zx))
    if shape != p.shape[:2]:
        labels = draw_polygons(kept[:, 0], kept[:, 1], p[..., 0], p[..., 1:], (int(shape[0]), int(shape[1])),
                               (zy, zx))
    sizes = np.bincount(labels.ravel())
    keep = sizes >= max(int(min_size), 1)
    keep[0] = False
    return (np.cumsum(keep) * keep).astype(np.int32)[labels]

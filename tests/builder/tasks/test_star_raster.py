"""The vectorised star-polygon filler against scikit-image's polygon filler on many random polygons."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import polygon

from builder.tasks.star_convex import polygon_vertices
from builder.tasks.star_raster import star_inside, star_pixels


def distance_to_outline(py: np.ndarray, px: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Distance of each point to the closed polygon outline through the vertices ``(rows, cols)``."""
    ay, ax = rows[:, None], cols[:, None]
    by, bx = np.roll(rows, -1)[:, None], np.roll(cols, -1)[:, None]
    ey, ex = by - ay, bx - ax
    length = np.maximum(ey * ey + ex * ex, 1e-300)
    t = np.clip(((py[None] - ay) * ey + (px[None] - ax) * ex) / length, 0.0, 1.0)
    return np.hypot(py[None] - (ay + t * ey), px[None] - (ax + t * ex)).min(axis=0)


def random_polygon(rng: np.random.Generator, k: int) -> tuple[float, float, np.ndarray]:
    """A centre (integer half the time, like the network's grid) and ray lengths (some 0, some integers)."""
    cy, cx = rng.uniform(-3, 43, 2)
    if rng.random() < 0.5:
        cy, cx = float(round(cy)), float(round(cx))
    d = rng.uniform(0, 15, k)
    d[rng.random(k) < 0.1] = 0.0
    if rng.random() < 0.3:
        d = np.round(d)  # vertices on pixel centres: many centres exactly on the outline
    return cy, cx, d


def skimage_mask(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """scikit-image's pixels of the polygon, then clipped to ``shape`` (its own ``shape`` argument clips the
    vertices instead, which changes polygons that leave the image)."""
    pad = 40
    rr, cc = polygon(rows + pad, cols + pad)
    rr, cc = rr - pad, cc - pad
    keep = (rr >= 0) & (rr < shape[0]) & (cc >= 0) & (cc < shape[1])
    mask = np.zeros(shape, bool)
    mask[rr[keep], cc[keep]] = True
    return mask


@pytest.mark.parametrize("k", [32, 8])
def test_star_pixels_equal_skimage_except_on_the_outline(k: int):
    rng = np.random.default_rng(k)
    shape = (40, 40)
    on_outline = compared = 0
    for _ in range(400):
        cy, cx, d = random_polygon(rng, k)
        rows, cols = polygon_vertices(cy, cx, d)
        theirs = skimage_mask(rows, cols, shape)
        if not theirs.any():
            continue
        compared += 1
        ours = np.zeros(shape, bool)
        ours[star_pixels(cy, cx, d, shape)] = True
        py, px = np.nonzero(ours != theirs)
        if py.size:
            gap = distance_to_outline(py.astype(float), px.astype(float), rows, cols)
            assert gap.max() < 1e-6, (cy, cx, d.tolist(), gap.max())
            on_outline += py.size
    assert compared > 300
    assert on_outline > 0  # the test does meet centres on the outline (where the two rules may differ)


def test_a_zoomed_polygon_equals_the_polygon_of_zoomed_vertices():
    rng = np.random.default_rng(3)
    shape = (60, 70)
    for _ in range(100):
        cy, cx, d = random_polygon(rng, 32)
        zy, zx = rng.uniform(0.7, 2.5, 2)
        y0, x0 = polygon_vertices(0.0, 0.0, d)
        rows, cols = cy + zy * y0, cx + zx * x0
        theirs = skimage_mask(rows, cols, shape)
        ours = np.zeros(shape, bool)
        ours[star_pixels(cy, cx, d, shape, zoom=(zy, zx))] = True
        py, px = np.nonzero(ours != theirs)
        if not theirs.any():
            assert ours.sum() <= 1
            continue
        if py.size:
            assert distance_to_outline(py.astype(float), px.astype(float), rows, cols).max() < 1e-6


def test_degenerate_sectors_hold_only_the_centre():
    d = np.zeros(32)
    dy, dx = np.mgrid[-3:4, -3:4].astype(float)
    assert star_inside(dy, dx, d).sum() == 1  # only the centre itself
    rr, cc = star_pixels(5.4, 6.6, d, (10, 10))
    assert (rr.tolist(), cc.tolist()) == ([5], [7])  # thinner than a pixel: the proposing pixel
    assert star_pixels(-4.0, 3.0, d, (10, 10))[0].size == 0  # ...unless it lies outside the image

"""The vectorised star-convex target equals a plain per-pixel, per-ray walk written from its definition.

The target is computed for every training patch, so its implementation is tuned for speed; these tests pin its
output, value for value, to the definition in :mod:`builder.tasks.star_convex` on touching objects, ignored (-1)
pixels, objects cut by the image border and real-like nuclei masks from the demo generator.
"""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.demo_nuclei import make_nuclei_image
from builder.tasks.label_arrays import NO_TARGET
from builder.tasks.star_convex import RAY_STEP, rays_and_border, star_convex_target


def walk(labels: np.ndarray, n_rays: int) -> tuple[np.ndarray, np.ndarray]:
    """Ray lengths and 'left the image' flags, one pixel and one ray at a time (slow, obviously right).

    A ray from an object pixel samples the pixel nearest to ``t`` (rounded per axis) for ``t = 1, 2, ...`` steps;
    at the first sample that is not the pixel's own label it ends between the last two samples: ``t - step/4``
    when the half step back is still its own label, else ``t - 3 step/4``.
    """
    height, width = labels.shape
    dist = np.zeros((height, width, n_rays), np.float32)
    left = np.zeros((height, width, n_rays), bool)

    def at(y: float, x: float) -> int | None:  # None: outside the image
        iy, ix = int(np.rint(y)), int(np.rint(x))
        return int(labels[iy, ix]) if 0 <= iy < height and 0 <= ix < width else None

    for y, x in zip(*np.nonzero(labels > 0), strict=True):
        own = int(labels[y, x])
        for k in range(n_rays):
            angle = k * (2.0 * np.pi / n_rays)
            sin, cos = np.sin(angle), np.cos(angle)
            t = 0.0
            while True:
                t += RAY_STEP
                seen = at(y + np.rint(t * sin), x + np.rint(t * cos))
                if seen != own:
                    back = t - RAY_STEP / 2
                    inside = at(y + np.rint(back * sin), x + np.rint(back * cos)) == own
                    dist[y, x, k] = t - RAY_STEP / 4 if inside else t - 3 * RAY_STEP / 4
                    left[y, x, k] = seen is None
                    break
    return dist, left


def touching_labels(rng: np.random.Generator, shape: tuple[int, int], n: int) -> np.ndarray:
    """Random convex-ish cells that touch: each pixel of a disk-covered area takes its nearest seed's label."""
    seeds = rng.uniform(0, shape, size=(n, 2))
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    d = np.hypot(yy[..., None] - seeds[:, 0], xx[..., None] - seeds[:, 1])
    labels = (np.argmin(d, axis=-1) + 1).astype(np.int32)
    labels[d.min(axis=-1) > rng.uniform(4, 9)] = 0
    return labels


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_rays", [8, 32])
def test_rays_equal_the_walk_on_touching_border_cut_and_ignored_labels(seed: int, n_rays: int):
    rng = np.random.default_rng(seed)
    labels = touching_labels(rng, (23, 31), 9)  # non-square: rows and columns cannot be swapped unnoticed
    labels[rng.random(labels.shape) < 0.04] = -1  # cells nobody outlined: another label for the rays
    dist, left = rays_and_border(labels, n_rays)
    want_dist, want_left = walk(labels, n_rays)
    assert left.any() and (labels > 0).sum() > 100
    np.testing.assert_array_equal(dist, want_dist)
    np.testing.assert_array_equal(left, want_left)


@pytest.mark.parametrize("seed", [3, 11])
def test_target_of_demo_nuclei_crops_equals_the_walk(seed: int):
    _, labels = make_nuclei_image(np.random.default_rng(seed), (48, 48))
    labels = labels.astype(np.int32)
    crop = labels[5:41, 2:46].copy()  # a training patch: nuclei cut by its border
    crop[:4, :4] = np.where(crop[:4, :4] > 0, -1, crop[:4, :4])
    target = star_convex_target(crop[..., None])
    lab = np.where(crop < 0, 0, crop)
    dist, left = walk(lab, 32)
    inside = lab > 0
    assert inside.sum() > 200 and left[inside].any()
    np.testing.assert_array_equal(target[..., 1:][~inside], 0)
    np.testing.assert_array_equal(target[..., 1:][inside], np.where(left, NO_TARGET, dist)[inside])
    assert np.all(target[crop < 0, 0] == NO_TARGET)


def test_one_image_size_after_another_uses_each_sizes_own_offsets():
    rng = np.random.default_rng(5)
    for shape in [(16, 40), (40, 16), (16, 40)]:  # the same flat offset means another pixel at another width
        labels = touching_labels(rng, shape, 5)
        np.testing.assert_array_equal(rays_and_border(labels, 16)[0], walk(labels, 16)[0])


@pytest.mark.parametrize("shape", [(7, 40), (40, 7), (1, 1)])
def test_an_object_filling_the_image_has_rays_from_border_to_border(shape: tuple[int, int]):
    labels = np.full(shape, 3, np.int32)
    dist, left = rays_and_border(labels, 32)
    want_dist, want_left = walk(labels, 32)
    assert left.all()
    np.testing.assert_array_equal(dist, want_dist)

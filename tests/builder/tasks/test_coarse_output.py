"""Star-convex post-processing from a grid network's output before its final repeat (CoarseOutput): one proposal
per repeated block, the labels of the repeated output suppressed that way, without ever repeating the 32 ray
channels."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.preprocess import resize_yx
from builder.tasks.label_order import keep_and_renumber
from builder.tasks.metrics.instances import instance_metrics
from builder.tasks.star_convex import star_convex_target
from builder.tasks.star_nms import MIN_AREA, RepeatedRays, _star_labels, instances_from_star, star_nms
from builder.tasks.zoomed_output import CoarseOutput, ZoomedOutput, repeat_yx
from tests.builder.tasks.test_star_grid_nms import disks

SETTINGS = {"threshold": 0.5, "nms_threshold": 0.4, "min_size": 10}


def coarse_star_output(truth: np.ndarray, coarse: tuple[int, int]) -> np.ndarray:
    """A grid network's output before its repeat: the star target of the mask shrunk to the coarse grid, its rays
    in pixels of the network's (twice finer) grid, with a little noise so that no two pixels tie."""
    out = np.maximum(star_convex_target(resize_yx(truth, coarse, order=0)), 0.0)
    out[..., 1:] *= 2.0
    noise = np.random.default_rng(0).uniform(-0.02, 0.02, out.shape).astype(np.float32)
    return np.clip(out + noise, 0, None).astype(np.float32)


def enlarge_to(shape):
    def enlarge(grid: np.ndarray) -> np.ndarray:
        full = resize_yx(grid, shape, order=1)
        full[..., 1:] *= float(np.mean(np.divide(shape, grid.shape[:2])))
        return full
    return enlarge


@pytest.mark.parametrize(("grid_shape", "image_shape"), [
    ((50, 60), (100, 120)),  # the network at half the image's resolution (object scale)
    ((49, 59), (100, 120)),  # odd network grid: the repeated output is cut
    ((50, 60), (50, 60)),  # the network at the image's resolution
])
def test_coarse_output_gives_the_labels_of_the_repeated_output(grid_shape, image_shape):
    truth = disks()
    coarse = coarse_star_output(truth, (-(-grid_shape[0] // 2), -(-grid_shape[1] // 2)))
    repeated = repeat_yx(coarse, 2, grid_shape)
    assert repeated.shape[:2] == grid_shape
    enlarge = enlarge_to(image_shape)
    from_coarse = ZoomedOutput(coarse, image_shape, enlarge, repeat=2, grid_shape=grid_shape)
    from_repeated = ZoomedOutput(repeated, image_shape, enlarge)
    assert from_coarse.zoom == from_repeated.zoom and from_coarse.shape == from_repeated.shape
    labels = instances_from_star(from_coarse, **SETTINGS)
    assert from_coarse._grid is None and from_coarse._full is None  # 33 channels never repeated nor enlarged
    np.testing.assert_array_equal(from_coarse.channel(0), from_repeated.channel(0))  # the probability map
    assert from_coarse._grid is None  # one channel repeated for it, not 33
    # the repeated arrays, suppressed with one proposal per 2 x 2 block
    expected, sizes = _star_labels(repeated[..., 0], repeated[..., 1:], 0.5, 0.4, max(10.0, MIN_AREA), image_shape,
                                   from_repeated.zoom, stride=2)
    expected = keep_and_renumber(expected, 10, sizes=sizes)
    assert labels.shape == image_shape and labels.max() == len(np.unique(truth)) - 1
    np.testing.assert_array_equal(labels, expected)
    # every pixel proposing instead finds the same objects here, outlined the same
    every = instances_from_star(from_repeated, **SETTINGS)
    if image_shape == (100, 120):
        truth_at = truth
    else:
        truth_at = resize_yx(truth, image_shape, order=0)
    assert instance_metrics(truth_at, labels, (0.5,))["f1@0.5"] == instance_metrics(truth_at, every, (0.5,))["f1@0.5"]
    assert instance_metrics(every, labels, (0.5,))["mean_matched_iou"] > 0.97
    # asked for as an array, it is the repeated output enlarged, as before
    np.testing.assert_array_equal(np.asarray(from_coarse), np.asarray(from_repeated))
    np.testing.assert_array_equal(from_coarse.grid, repeated)


def test_coarse_output_array_is_the_networks_repeated_output():
    coarse = np.arange(3 * 4 * 2, dtype=np.float32).reshape(3, 4, 2)
    out = CoarseOutput(coarse, 2, (5, 8))
    assert out.shape == (5, 8, 2)
    full = out.array()
    assert full.shape == (5, 8, 2)
    for y in range(5):
        for x in range(8):
            np.testing.assert_array_equal(full[y, x], coarse[y // 2, x // 2])


def test_repeated_rays_read_like_the_repeated_array():
    coarse = np.random.default_rng(0).uniform(0, 9, (6, 7, 4)).astype(np.float32)
    rays = RepeatedRays(coarse, 2, (11, 13))
    full = repeat_yx(coarse, 2, (11, 13))
    assert rays.shape == full.shape and rays.dtype == full.dtype
    ys, xs = np.array([0, 1, 10, 7, 3]), np.array([12, 0, 5, 6, 11])
    np.testing.assert_array_equal(rays[ys, xs], full[ys, xs])
    with pytest.raises(TypeError, match="two integer index arrays"):
        rays[0]


def test_with_a_stride_only_pixels_on_it_propose():
    prob = np.zeros((12, 12), np.float32)
    dist = np.full((12, 12, 8), 2.5, np.float32)
    at_odd, at_even = prob.copy(), prob.copy()
    at_odd[5, 7] = 0.9
    at_even[6, 4] = 0.9
    assert star_nms(at_odd, dist, min_area=3).max() == 1  # every pixel proposes
    assert star_nms(at_odd, dist, min_area=3, stride=2).max() == 0
    labels = star_nms(at_even, dist, min_area=3, stride=2)
    assert labels.max() == 1 and labels[6, 4] == 1

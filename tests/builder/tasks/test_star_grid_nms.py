"""Star-convex post-processing on the network's grid, polygons drawn at the image's size (ZoomedOutput)."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.preprocess import resize_yx
from builder.tasks.metrics.instances import instance_metrics
from builder.tasks.star_convex import N_RAYS, star_convex_target
from builder.tasks.star_nms import instances_from_star, kept_polygons
from builder.tasks.zoomed_output import ZoomedOutput

#: Touching and separate disks (centre y, centre x, radius) in a 100 x 120 image.
DISKS = [(25, 24, 11), (25, 45, 10), (70, 30, 12), (62, 80, 9), (78, 97, 10), (30, 95, 8)]


def disks(shape: tuple[int, int] = (100, 120)) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    out = np.zeros(shape, np.int32)
    for i, (cy, cx, r) in enumerate(DISKS, start=1):
        out[((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r) & (out == 0)] = i
    return out


def grid_output(truth: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """What a perfect network at object scale outputs: the star target of the mask shrunk to its grid."""
    return np.maximum(star_convex_target(resize_yx(truth, grid, order=0)), 0.0)


def zoomed(out: np.ndarray, shape: tuple[int, int]) -> ZoomedOutput:
    def enlarge(grid: np.ndarray) -> np.ndarray:  # what prediction did before: interpolate every channel
        full = resize_yx(grid, shape, order=1)
        full[..., 1:] *= float(np.mean(np.divide(shape, grid.shape[:2])))
        return full

    return ZoomedOutput(out, shape, enlarge)


@pytest.mark.parametrize("grid", [(50, 60), (40, 60)])  # zoom 2 both ways; 2.5 along Y, 2 along X
def test_grid_suppression_gives_the_labels_of_the_interpolated_output(grid):
    truth = disks()
    out = zoomed(grid_output(truth, grid), truth.shape)
    settings = {"threshold": 0.5, "nms_threshold": 0.4, "min_size": 10}
    on_grid = instances_from_star(out, **settings)
    assert out._full is None  # the 33 channels were never interpolated
    before = instances_from_star(np.asarray(out), **settings)  # interpolated first, suppressed at full size
    assert on_grid.shape == before.shape == truth.shape
    assert on_grid.max() == before.max() == len(DISKS)
    same = instance_metrics(before, on_grid, (0.5,))
    assert same["f1@0.5"] == 1.0
    if grid == (50, 60):
        assert same["mean_matched_iou"] > 0.97, same["mean_matched_iou"]
    # before, the rays were stretched by the mean zoom in every direction: outlines now follow the objects better
    iou_now = instance_metrics(truth, on_grid, (0.5,))["mean_matched_iou"]
    assert iou_now >= instance_metrics(truth, before, (0.5,))["mean_matched_iou"] - 1e-9
    assert instance_metrics(truth, on_grid, (0.7,))["by_threshold"]["0.7"]["f1"] == 1.0


def test_kept_order_and_min_size_in_image_pixels():
    truth = disks()
    out = zoomed(grid_output(truth, (50, 60)), truth.shape)
    ys, xs = kept_polygons(out.grid[..., 0], out.grid[..., 1:], threshold=0.5, nms_threshold=0.4, min_area=3)
    labels = instances_from_star(out, threshold=0.5, nms_threshold=0.4, min_size=10)
    # label n is the n-th kept polygon: its centre lies in that object
    for n, (y, x) in enumerate(zip(ys, xs, strict=True), start=1):
        centre = (int(round((y + 0.5) * 2 - 0.5)), int(round((x + 0.5) * 2 - 0.5)))
        assert labels[centre] == n
    smallest = min(int((truth == i).sum()) for i in range(1, len(DISKS) + 1))  # ~200 px, ~50 on the grid
    assert instances_from_star(out, threshold=0.5, nms_threshold=0.4, min_size=smallest // 2).max() == len(DISKS)
    assert instances_from_star(out, threshold=0.5, nms_threshold=0.4, min_size=smallest + 40).max() < len(DISKS)


def test_zoomed_output_interpolates_only_when_asked():
    truth = disks()
    grid = grid_output(truth, (50, 60))
    out = zoomed(grid, truth.shape)
    assert out.shape == (100, 120, 1 + N_RAYS) and out.zoom == (2.0, 2.0)
    prob = out.channel(0)
    assert out._full is None and prob.shape == truth.shape
    np.testing.assert_allclose(prob, resize_yx(grid[..., :1], truth.shape, order=1)[..., 0], atol=1e-6)
    full = np.asarray(out)
    np.testing.assert_allclose(full[..., 0], prob, atol=1e-6)
    np.testing.assert_allclose(full[..., 1:], 2.0 * resize_yx(grid, truth.shape, order=1)[..., 1:], atol=1e-5)


def test_a_kept_polygon_is_drawn_from_the_pixel_and_rays_of_the_interpolated_output():
    """The proposing image pixel is the most probable one of the grid cell in the interpolated output, and its
    rays are the interpolated rays there (edges included, where interpolation mirrors)."""
    from builder.data.linear_resize import axis_weights
    from builder.tasks.star_nms import _cell, _proposer

    grid = np.random.default_rng(1).uniform(0, 1, (20, 25, 5)).astype(np.float32)
    shape = (33, 41)
    zoom = (33 / 20, 41 / 25)
    full = resize_yx(grid, shape, order=1)
    weights = (axis_weights(20, 33), axis_weights(25, 41))
    for y in range(20):
        for x in range(25):
            cy, cx, rays = _proposer(grid[..., 0], grid[..., 1:], y, x, zoom, weights)
            rows, cols = _cell(y, zoom[0], 33), _cell(x, zoom[1], 41)
            assert int(cy) in rows and int(cx) in cols
            assert full[int(cy), int(cx), 0] == pytest.approx(full[np.ix_(rows, cols)][..., 0].max(), abs=1e-6)
            np.testing.assert_allclose(rays, full[int(cy), int(cx), 1:], atol=1e-5)

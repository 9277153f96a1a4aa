"""The batched star-convex post-processing gives exactly the labels of the one-polygon-at-a-time code it replaced
(``star_post_reference.py``): on the real DSB nuclei mask's star target and on hand-built outputs with overlapping,
touching, border-cut, tiny, huge and equally probable polygons."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.preprocess import resize_yx
from builder.tasks.star_batch import polygons_pixels
from builder.tasks.star_convex import star_convex_target
from builder.tasks.star_nms import instances_from_star
from builder.tasks.star_raster import star_pixels
from builder.tasks.zoomed_output import ZoomedOutput
from tests.builder.tasks import star_post_reference as reference

SETTINGS = {"threshold": 0.5, "nms_threshold": 0.4, "min_size": 10}


def batched(output: np.ndarray, shape: tuple[int, int] | None = None, **settings: float) -> np.ndarray:
    """Labels of the library's post-processing, on the grid or drawn at ``shape`` as prediction does."""
    if shape is None or tuple(shape) == output.shape[:2]:
        return instances_from_star(output, **{**SETTINGS, **settings})
    return instances_from_star(ZoomedOutput(output, shape, lambda grid: grid), **{**SETTINGS, **settings})


def assert_same(output: np.ndarray, shape: tuple[int, int] | None = None, **settings: float) -> np.ndarray:
    ours = batched(output, shape, **settings)
    before = reference.instances_from_star(output, shape, **{**SETTINGS, **settings})
    assert ours.dtype == before.dtype
    mismatch = np.argwhere(ours != before)
    assert mismatch.size == 0, f"{len(mismatch)} pixels differ, first at {mismatch[:3].tolist()}"
    return ours


def star_output(labels: np.ndarray) -> np.ndarray:
    """The output of a perfect network: the star target, rays cut by the border set to 0 (as in prediction)."""
    return np.maximum(star_convex_target(labels.astype(np.int64)), 0.0)


def test_real_nuclei_give_the_same_labels_on_the_grid_and_drawn_at_full_size(realdata):
    import tifffile

    mask = tifffile.imread(realdata / "dsb2018_one_image" / "mask2d.tif").astype(np.int64)
    grid = (round(mask.shape[0] * 15 / 23.7), round(mask.shape[1] * 15 / 23.7))  # the nuclei example's scale
    shrunk = star_output(resize_yx(mask, grid, order=0))
    labels = assert_same(shrunk, mask.shape)
    assert labels.max() > 50  # most of the image's nuclei are found (the test has something to compare)
    assert_same(star_output(mask))  # full resolution: suppression and labels on the same grid


def disks(shape: tuple[int, int], centres: list[tuple[float, float, float]]) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    out = np.zeros(shape, np.int64)
    for n, (cy, cx, r) in enumerate(centres, start=1):
        out[(np.hypot(yy - cy, xx - cx) <= r) & (out == 0)] = n
    return out


#: Touching pairs, a chain, objects cut by every border and corner, a two-pixel-wide object (a probability plateau).
HAND_BUILT = [(10, 10, 7), (10, 23, 7), (40, 20, 9), (40, 36, 8), (40, 50, 9), (0, 60, 6), (30, 0, 5),
              (59, 40, 7), (25, 69, 6), (59, 69, 8), (0, 0, 4)]


@pytest.mark.parametrize("image", [(60, 70), (95, 111), (97, 140), (41, 47)])  # zoom 1; ~1.6 alike; 1.6 / 2; < 1
def test_hand_built_touching_and_border_objects(image):
    truth = disks((60, 70), HAND_BUILT)
    truth[20:22, 45:60] = truth.max() + 1  # two pixels wide: equally probable neighbours
    assert_same(star_output(truth), image)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("nms_threshold", [0.0, 0.3, 0.7])
def test_random_outputs_with_overlapping_polygons(seed, nms_threshold):
    """What a poorly trained network gives: probabilities and rays of every size, polygons overlapping each
    other and the border, ties, rays of 0 and polygons thinner than a pixel."""
    rng = np.random.default_rng(seed)
    out = np.zeros((48, 56, 17), np.float32)
    out[..., 0] = np.round(rng.uniform(0, 1, out.shape[:2]), 1)  # many exact ties
    out[..., 1:] = rng.gamma(2.0, 3.0, (48, 56, 16)) * rng.uniform(0, 1.5, (48, 56, 1))
    out[rng.random(out.shape) < 0.05] = 0.0
    out[::7, ::5, 1:] = rng.uniform(0, 0.4, (7, 12, 16))  # thinner than a pixel
    for image in [None, (77, 90), (96, 100)]:
        assert_same(out, image, nms_threshold=nms_threshold, min_size=3)


def test_polygons_beyond_the_tables_reach_and_anisotropic_zoom():
    """Rays of 128 pixels and more (filled without the offset table) next to ordinary ones."""
    out = np.zeros((40, 300, 9), np.float32)
    out[20, 150] = [1.0, *[140.0] * 8]
    out[5, 10] = [0.9, *[6.0] * 8]
    out[35, 290] = [0.8, 3.0, 0.0, 7.0, 2.0, 9.0, 1.0, 5.0, 4.0]
    for image in [None, (40, 300), (80, 330)]:
        assert_same(out, image, min_size=1)


@pytest.mark.parametrize("zoom", [(1.0, 1.0), (1.7, 1.7), (1.5, 2.5)])
def test_polygons_pixels_equal_star_pixels_one_by_one(zoom):
    rng = np.random.default_rng(3)
    shape = (50, 64)
    n = 300
    cy = rng.integers(-5, 55, n).astype(np.float64)
    cx = rng.integers(-5, 69, n).astype(np.float64)
    cy[::5] += rng.uniform(-0.5, 0.5, cy[::5].size)  # off-centre polygons (drawn at the image's size)
    dist = (rng.gamma(2.0, 3.0, (n, 12)) * rng.uniform(0, 1.2, (n, 1))).astype(np.float32)
    dist[::9] = 0.0
    dist[1::11] = 200.0
    dist[2::13, ::2] = -1.0  # negative rays count as 0
    pixels, offsets = polygons_pixels(cy, cx, dist, shape, zoom)
    assert offsets.shape == (n + 1,) and offsets[-1] == pixels.size
    for i in range(n):
        rr, cc = reference.star_pixels(float(cy[i]), float(cx[i]), dist[i], shape, zoom)
        before = rr * shape[1] + cc
        assert np.array_equal(np.ravel_multi_index(star_pixels(cy[i], cx[i], dist[i], shape, zoom), shape), before)
        assert np.array_equal(pixels[offsets[i]:offsets[i + 1]], before), i


@pytest.mark.parametrize(("grid", "image"), [((20, 25), (33, 41)), ((30, 20), (30, 45)), ((24, 24), (17, 19))])
def test_proposers_found_together_equal_the_one_at_a_time_search(grid, image):
    """Same proposing pixel and bit-identical interpolated rays, plateaus and edges included."""
    from builder.data.linear_resize import axis_weights
    from builder.tasks.star_nms import _proposers

    rng = np.random.default_rng(4)
    out = rng.uniform(0, 1, (*grid, 9)).astype(np.float32)
    out[..., 0] = np.round(out[..., 0], 1)  # equally probable neighbours
    zoom = (image[0] / grid[0], image[1] / grid[1])
    weights = (axis_weights(grid[0], image[0]), axis_weights(grid[1], image[1]))
    ys, xs = (a.ravel() for a in np.mgrid[: grid[0], : grid[1]])
    cy, cx, rays = _proposers(out[..., 0], out[..., 1:], ys, xs, zoom, weights)
    for i, (y, x) in enumerate(zip(ys.tolist(), xs.tolist(), strict=True)):
        one = reference.proposer(out[..., 0], out[..., 1:], y, x, zoom, weights)
        assert (cy[i], cx[i]) == one[:2] and rays[i].dtype == one[2].dtype and np.array_equal(rays[i], one[2])


def test_a_proposal_kept_after_being_left_out_of_its_batch_covers_later_ones():
    """In one batch: K is kept; A overlaps K too much and is refused; B, deep inside A (so not filled with the
    batch), is then filled alone and kept, and its spike covers C's pixel, so C is skipped although nothing of the
    batch's filled polygons touches C."""
    out = np.zeros((40, 60, 9), np.float32)
    out[20, 10] = [0.99, *[6.0] * 8]  # K
    out[20, 18] = [0.98, *[8.0] * 8]  # A
    out[20, 20] = [0.97, 20.0, *[2.0] * 7]  # B: a spike along +X, through C's pixel
    out[20, 36] = [0.96, *[3.0] * 8]  # C
    labels = assert_same(out, nms_threshold=0.1, min_size=1)
    assert labels.max() == 2 and labels[20, 10] == 1 and labels[20, 36] == labels[20, 20] == 2


@pytest.mark.parametrize("image", [None, (30, 40), (45, 60)])
def test_an_output_without_objects_gives_empty_labels(image):
    """No pixel above the threshold, or only polygons too small to keep (an untrained network)."""
    out = np.zeros((30, 40, 9), np.float32)
    assert not assert_same(out, image).any()
    out[..., 0], out[..., 1:] = 0.9, 0.3
    assert not assert_same(out, image).any()

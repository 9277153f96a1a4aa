"""Star-convex target, polygon non-maximum suppression and their tuning, on shapes with known geometry."""

from __future__ import annotations

import numpy as np
import pytest

from builder.errors import DataError
from builder.tasks.instances import postprocess_instances, tune_postprocess
from builder.tasks.metrics.instances import instance_metrics
from builder.tasks.star_convex import N_RAYS, ray_angles, ray_distances, star_convex_target
from builder.tasks.star_nms import instances_from_star, polygon_areas, star_nms


def disk(size: int, cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return (np.hypot(yy - cy, xx - cx) <= r).astype(np.int32)


def ray_to_circle(py: float, px: float, cy: float, cx: float, r: float) -> np.ndarray:
    """Exact distance from (py, px) to the circle along each ray (the positive root of |p + t u - c| = r)."""
    a = ray_angles()
    uy, ux = np.sin(a), np.cos(a)
    oy, ox = py - cy, px - cx
    b = oy * uy + ox * ux
    return -b + np.sqrt(b * b - (oy * oy + ox * ox - r * r))


@pytest.mark.parametrize("r", [5, 10, 17])
def test_rays_from_a_disk_centre_equal_its_radius(r: int):
    d = ray_distances(disk(2 * r + 9, r + 4, r + 4, r))[r + 4, r + 4]
    assert d.shape == (N_RAYS,)
    # the outer edge of the outermost pixels lies half a pixel beyond the radius through their centres
    assert np.abs(d - (r + 0.5)).max() <= 1.0


def test_rays_from_an_off_centre_pixel_follow_the_circle():
    d = ray_distances(disk(41, 20, 20, 12))[16, 25]
    # the pixel disk's outline is a staircase around the true circle: within one pixel diagonal
    assert np.abs(d - ray_to_circle(16, 25, 20, 20, 12.5)).max() <= np.sqrt(2)


def test_rays_stop_at_a_touching_neighbour_and_at_the_image_border(touching_disks):
    lab = touching_disks(size=48, r=9, gap=16)  # centres at x = 16 and 32, row 24; the cut is at x = 24
    d = ray_distances(lab)
    right, left = 0, N_RAYS // 2  # ray 0 points to +x, ray K/2 to -x
    assert d[24, 16, right] == pytest.approx(24 - 16, abs=1.0)  # stops where disk 2 begins, not at r = 9
    assert d[24, 16, left] == pytest.approx(9.5, abs=1.0)
    assert d[24, 32, left] == pytest.approx(32 - 24, abs=1.0)
    border = np.zeros((10, 10), np.int32)
    border[:, :4] = 1
    assert ray_distances(border)[5, 1, left] == pytest.approx(1.5, abs=0.5)


def test_target_layout_and_probability():
    lab = disk(31, 15, 15, 8) * 7
    t = star_convex_target(lab[..., None])
    assert t.shape == (31, 31, 1 + N_RAYS) and t.dtype == np.float32
    assert t[15, 15, 0] == pytest.approx(1.0) and 0 < t[15, 7, 0] < 0.3  # centre 1, rim small
    assert (t[lab == 0] == 0).all()


def test_polygon_area_of_a_perfect_disk_prediction():
    d = ray_distances(disk(41, 20, 20, 12))[20, 20]
    assert polygon_areas(d) == pytest.approx(disk(41, 20, 20, 12).sum(), rel=0.1)


def two_proposals(shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Prob and distances of two pixels that each propose a radius-8 disk, ``shift`` pixels apart."""
    prob, dist = np.zeros((48, 64), np.float32), np.zeros((48, 64, N_RAYS), np.float32)
    prob[24, 20], prob[24, 20 + shift] = 0.9, 0.8
    dist[24, 20] = dist[24, 20 + shift] = 8.5
    return prob, dist


def test_nms_keeps_one_of_two_heavily_overlapping_polygons():
    prob, dist = two_proposals(shift=3)
    labels = star_nms(prob, dist, threshold=0.5, nms_threshold=0.4)
    assert labels.max() == 1
    assert labels[24, 20] == 1 and labels[24, 29] == 0  # the higher-scoring disk (centre x = 20) was kept


def test_nms_keeps_two_polygons_that_barely_overlap():
    prob, dist = two_proposals(shift=17)  # rims overlap by a sliver
    labels = star_nms(prob, dist, threshold=0.5, nms_threshold=0.4)
    assert labels.max() == 2 and labels[24, 20] == 1 and labels[24, 37] == 2


@pytest.mark.parametrize(("nms_threshold", "objects"), [(0.4, 2), (1.0, 3)])
def test_a_polygon_covering_two_kept_objects_is_refused(touching_disks, nms_threshold: float, objects: int):
    lab = touching_disks(size=64, r=10, gap=22)  # centres (32, 21) and (32, 43), a background gap at x = 32
    assert lab[32, 32] == 0
    t = star_convex_target(lab)
    t[32, 32, 0], t[32, 32, 1:] = 0.6, 17.0  # a gap pixel proposing one disk over most of both nuclei
    labels = instances_from_star(t, threshold=0.5, nms_threshold=nms_threshold, min_size=0)
    assert labels.max() == objects


def test_perfect_prediction_of_two_touching_disks_gives_two_objects(touching_disks):
    lab = touching_disks(size=48, r=9, gap=14)
    labels = instances_from_star(star_convex_target(lab), threshold=0.5, nms_threshold=0.4, min_size=5)
    m = instance_metrics([lab], [labels], [0.5, 0.8])
    assert labels.max() == 2
    assert m["by_threshold"]["0.8"]["f1"] == 1.0 and m["merges"] == 0 and m["splits"] == 0


def test_dispatch_ignores_the_watershed_settings(touching_disks):
    lab = touching_disks()
    labels = postprocess_instances(star_convex_target(lab), "star_convex", threshold=0.5, seed_threshold=0.9,
                                   nms_threshold=0.4, min_size=0)
    assert labels.max() == 2


def test_min_size_and_degenerate_outputs():
    untrained = np.full((32, 32, 1 + N_RAYS), 0.2, np.float32)
    untrained[..., 0] = 0.9  # every pixel confident, all polygons tiny: no object (and fast)
    assert instances_from_star(untrained, threshold=0.5, min_size=0).max() == 0
    with pytest.raises(DataError, match="1 \\+ rays"):
        instances_from_star(np.zeros((8, 8, 3), np.float32))


def test_tuning_finds_thresholds_that_separate_the_disks(touching_disks):
    labs = [touching_disks(size=48, r=9, gap=14), touching_disks(size=48, r=8, gap=12)]
    rng = np.random.default_rng(0)
    preds = []
    for lab in labs:
        t = star_convex_target(lab)
        t[..., 0] = np.clip(0.9 * t[..., 0] + rng.normal(0, 0.05, t.shape[:2]), 0, 0.9)  # unsure, noisy
        preds.append(t)
    start = {"threshold": 0.95, "nms_threshold": 0.95, "seed_threshold": 0.5}  # nothing is that sure
    tuned = tune_postprocess(preds, labs, target="star_convex", start=start, min_size=0)
    assert set(tuned) >= {"threshold", "nms_threshold", "min_size", "score"} and "seed_threshold" not in tuned
    assert tuned["start_score"] == 0 and tuned["score"] > 0.9
    assert tuned["threshold"] in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def test_exported_models_explain_the_star_output():
    from builder.tasks import get_task

    task = get_task("instance_segmentation")
    note = task.output_note({"train": {"instance_target": "star_convex"}})
    assert f"channels 1-{N_RAYS}" in note and "`nms_threshold`" in note
    assert "`seed_threshold`" in task.output_note({"train": {}})


def test_star_distances_follow_an_output_brought_back_to_full_resolution(tmp_path):
    """Outputs made on a downscaled grid and interpolated back have their ray distances scaled too."""
    from builder.recipe import load_recipe
    from builder.tasks import get_task

    path = tmp_path / "r.yaml"
    path.write_text("cellwright: 1\nname: t\ntask: instance_segmentation\ndata: {layout: demo, demo: nuclei}\n"
                    "train: {instance_target: star_convex}\n")
    recipe = load_recipe(path)
    task = get_task("instance_segmentation")
    half = star_convex_target(disk(24, 12, 12, 5))
    from builder.data.preprocess import resize_yx

    full = task.output_at_zoom(resize_yx(half, (48, 48), order=1), recipe, 2.0)
    assert full[24, 24, 0] == pytest.approx(half[12, 12, 0], abs=0.1)
    assert full[24, 24, 1:].mean() == pytest.approx(2 * half[12, 12, 1:].mean(), abs=1.0)  # ~10.5, not ~5
    labels = instances_from_star(full, threshold=0.5, nms_threshold=0.4, min_size=0)
    truth = disk(48, 24, 24, 10)
    assert instance_metrics([truth], [labels], [0.8])["by_threshold"]["0.8"]["f1"] == 1.0


def test_a_patch_target_knows_only_the_rays_that_end_inside_the_patch():
    """An object cut by the patch border continues beyond it: rays that reach the border have no target, the
    others equal the rays of the whole image, and the cut object's centre stays where the whole object's is."""
    from builder.tasks.label_arrays import NO_TARGET

    whole = disk(41, 20, 20, 10) + 2 * disk(41, 20, 33, 6) * (disk(41, 20, 20, 10) == 0)
    full = star_convex_target(whole)
    patch = star_convex_target(whole[:, 20:])  # cut through the big disk's centre
    rays, full_rays = patch[..., 1:], full[:, 20:, 1:]
    unknown = rays == NO_TARGET
    left = N_RAYS // 2  # ray K/2 points to -x, out of the patch
    assert unknown[20, 5, left] and not unknown[20, 5, 0]
    assert unknown.any() and np.array_equal(rays[~unknown], full_rays[~unknown])
    assert not unknown[whole[:, 20:] == 2].any()  # the small disk lies inside the patch: all rays known
    # the half disk is most central at the border next to the true centre, not 5 px inside
    prob = np.where(whole[:, 20:] == 1, patch[..., 0], -1)
    cy, cx = np.unravel_index(np.argmax(prob), prob.shape)
    assert abs(cy - 20) <= 1 and cx <= 1


def test_rays_and_border_say_which_rays_left_the_image():
    from builder.tasks.star_convex import rays_and_border

    lab = np.zeros((10, 10), np.int32)
    lab[:, :4] = 1
    rays, at_border = rays_and_border(lab)
    left, right = N_RAYS // 2, 0
    assert at_border[5, 1, left] and not at_border[5, 1, right]
    assert rays[5, 1, left] == pytest.approx(1.5, abs=0.5) and rays[5, 1, right] == pytest.approx(2.5, abs=0.5)
    assert not at_border[lab == 0].any()

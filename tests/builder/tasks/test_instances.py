import numpy as np
import pytest
from scipy import ndimage as ndi

from builder.errors import DataError
from builder.tasks.instances import (
    distance_targets,
    instances_from_distance,
    instances_from_three_class,
    min_size_candidates,
    three_class_target,
    tune_postprocess,
)
from builder.tasks.metrics.instances import instance_metrics

CROSS = ndi.generate_binary_structure(2, 1)


def test_three_class_on_a_square():
    lab = np.zeros((9, 9), np.int32)
    lab[2:7, 2:7] = 4  # 5x5 square: 16 border pixels, 3x3 = 9 interior pixels
    t = three_class_target(lab)
    assert t.shape == (9, 9) and t.dtype == np.int32
    assert (t == 1).sum() == 16 and (t == 2).sum() == 9 and (t[3:6, 3:6] == 2).all()
    assert (t == 0).sum() == 81 - 25
    assert three_class_target(lab[..., None]).shape == (9, 9, 1)


def test_three_class_separates_touching_objects(touching_disks):
    lab = touching_disks()
    t = three_class_target(lab)
    for i in (1, 2):  # interior = object eroded with the 4-neighbourhood, computed independently
        obj = lab == i
        expected_interior = ndi.binary_erosion(np.pad(obj, 1), CROSS)[1:-1, 1:-1] & ~(
            ndi.binary_dilation(lab == 3 - i, CROSS))
        assert np.array_equal(t[obj] == 2, expected_interior[obj])
    assert ndi.label(t == 2)[1] == 2  # the interiors do not touch


def test_distance_targets_on_a_square():
    lab = np.zeros((9, 9), np.int32)
    lab[2:7, 2:7] = 1
    d = distance_targets(lab)
    assert d.shape == (9, 9, 2) and d.dtype == np.float32
    # distances to the nearest outside pixel: 1 on the rim, 2 on the next ring, 3 at the centre
    assert d[4, 4, 0] == pytest.approx(1.0)
    assert d[2, 4, 0] == pytest.approx(1 / 3) and d[3, 4, 0] == pytest.approx(2 / 3)
    assert d[2, 4, 1] == pytest.approx(0.5) and d[3, 4, 1] == pytest.approx(1.0)
    assert (d[lab == 0] == 0).all()
    # an object touching the image border counts the border as its edge
    assert distance_targets(np.ones((3, 3), np.int32))[1, 1, 0] == pytest.approx(1.0)


def _soft_three_class(lab, noise=0.0, seed=0):
    onehot = np.eye(3, dtype=np.float32)[three_class_target(lab)]
    prob = ndi.gaussian_filter(onehot, (1.0, 1.0, 0)) + noise * np.random.default_rng(seed).random(onehot.shape)
    return prob / prob.sum(-1, keepdims=True)


def test_watershed_recovers_touching_disks_from_three_class(touching_disks):
    lab = touching_disks()
    pred = instances_from_three_class(_soft_three_class(lab, noise=0.2), seed_threshold=0.5, threshold=0.5)
    m = instance_metrics(lab, pred)
    assert pred.max() == 2 and m["by_threshold"]["0.8"]["tp"] == 2, m


def test_watershed_recovers_touching_disks_from_distance(touching_disks):
    lab = touching_disks()
    pred = instances_from_distance(distance_targets(lab), seed_threshold=0.6, threshold=0.3)
    m = instance_metrics(lab, pred)
    assert pred.max() == 2 and m["by_threshold"]["0.9"]["tp"] == 2, m


def test_min_size_and_seedless_objects():
    lab = np.zeros((20, 20), np.int32)
    lab[2:8, 2:8] = 1
    lab[15:17, 15:17] = 2  # 4 px: all boundary, no interior seed
    prob = _soft_three_class(lab)
    assert instances_from_three_class(prob, min_size=1, threshold=0.3).max() == 2
    assert instances_from_three_class(prob, min_size=10, threshold=0.3).max() == 1
    with pytest.raises(DataError, match=r"\(Y, X, 3\)"):
        instances_from_three_class(prob[..., :2])


def test_tuning_beats_a_bad_start(touching_disks):
    labels = [touching_disks(gap=g) for g in (14, 16)]
    preds = [_soft_three_class(lab, noise=0.3, seed=i) for i, lab in enumerate(labels)]
    start = {"threshold": 0.7, "seed_threshold": 0.3}  # seeds merge, objects shrink
    result = tune_postprocess(preds, labels, start=start, min_size=5)
    assert result["start_score"] < result["score"]
    assert result["score"] == max(r["score"] for r in result["tried"])
    assert (result["threshold"], result["seed_threshold"]) != (0.7, 0.3)
    assert len(result["tried"]) == 1 + 6 * 7 + len(min_size_candidates(labels, 5)) - 1


def test_tuning_raises_min_size_to_drop_fragments(touching_disks):
    labels = [touching_disks(gap=g) for g in (14, 16)]
    preds = []
    for i, lab in enumerate(labels):
        fragments = lab.copy()
        rng = np.random.default_rng(i)
        for y, x in rng.integers(2, lab.shape[0] - 4, size=(12, 2)):
            if not lab[y - 1:y + 3, x - 1:x + 3].any():
                fragments[y:y + 2, x:x + 2] = 99  # 4-px specks of false interior
        prob = _soft_three_class(lab, noise=0.0, seed=i)
        prob[fragments == 99] = (0.0, 0.0, 1.0)
        preds.append(prob)
    start = {"threshold": 0.5, "seed_threshold": 0.5}
    kept = tune_postprocess(preds, labels, start=start, min_size=0, tune_min_size=False)
    tuned = tune_postprocess(preds, labels, start=start, min_size=0)
    assert tuned["min_size"] > 4 and tuned["score"] > kept["score"]
    median = np.median(np.concatenate([np.bincount(lab.ravel())[1:] for lab in labels]))
    assert max(min_size_candidates(labels, 0)) == round(0.5 * median)  # small real objects are never removed

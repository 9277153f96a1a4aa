import numpy as np
import pytest
from sklearn.metrics import f1_score, jaccard_score

from builder.errors import DataError
from builder.tasks.metrics.semantic import semantic_metrics


def test_hand_computed_two_by_two():
    true = np.array([[0, 0], [1, 1]])
    pred = np.array([[0, 1], [1, 1]])
    m = semantic_metrics(true, pred, 2, class_names=["bg", "cell"])
    # class 0: TP 1, FP 0, FN 1 -> IoU 1/2, Dice 2/3; class 1: TP 2, FP 1, FN 0 -> IoU 2/3, Dice 4/5
    assert m["per_class"]["bg"]["iou"] == pytest.approx(0.5)
    assert m["per_class"]["cell"]["iou"] == pytest.approx(2 / 3)
    assert m["per_class"]["bg"]["dice"] == pytest.approx(2 / 3)
    assert m["per_class"]["cell"]["dice"] == pytest.approx(0.8)
    assert m["mean_iou"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert m["mean_iou_foreground"] == pytest.approx(2 / 3)
    assert m["pixel_accuracy"] == pytest.approx(3 / 4)


def test_absent_class_is_left_out_of_the_mean():
    true = np.zeros((4, 4), int)
    pred = np.zeros((4, 4), int)
    m = semantic_metrics([true], [pred], 3)
    assert m["per_class"]["2"]["iou"] is None
    assert m["mean_iou"] == pytest.approx(1.0)


def test_agrees_with_scikit_learn_over_several_images():
    rng = np.random.default_rng(0)
    trues = [rng.integers(0, 3, (16, 16)) for _ in range(3)]
    preds = [np.where(rng.random((16, 16)) < 0.7, t, rng.integers(0, 3, (16, 16))) for t in trues]
    m = semantic_metrics(trues, [p[..., None] for p in preds], 3)
    t = np.concatenate([a.ravel() for a in trues])
    p = np.concatenate([a.ravel() for a in preds])
    assert [m["per_class"][str(i)]["iou"] for i in range(3)] == pytest.approx(jaccard_score(t, p, average=None))
    assert [m["per_class"][str(i)]["dice"] for i in range(3)] == pytest.approx(f1_score(t, p, average=None))
    assert len(m["per_image"]) == 3


def test_bad_values_are_reported():
    with pytest.raises(DataError, match="class indices 0..1"):
        semantic_metrics(np.array([[0, 3]]), np.array([[0, 1]]), 2)
    with pytest.raises(DataError, match="same shape"):
        semantic_metrics(np.zeros((2, 2), int), np.zeros((2, 3), int), 2)

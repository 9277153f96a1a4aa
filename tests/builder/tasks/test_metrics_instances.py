import numpy as np
import pytest
from skimage.metrics import contingency_table

from builder.errors import DataError
from builder.tasks.metrics.instances import instance_metrics, iou_matrix, match_image, overlap_matrix


def _hand_case():
    true = np.zeros((12, 12), int)
    true[0:4, 0:4] = 1  # 16 px
    true[0:4, 6:10] = 2  # 16 px
    pred = np.zeros((12, 12), int)
    pred[0:4, 0:3] = 7  # 12 px inside object 1: IoU 12/16 = 0.75
    pred[0:4, 6:12] = 3  # 24 px covering object 2: IoU 16/24 = 2/3
    pred[8:10, 8:10] = 5  # false positive
    return true, pred


def test_hand_computed_scores():
    true, pred = _hand_case()
    m = instance_metrics(true, pred, thresholds=(0.5, 0.7, 0.8))
    s = m["by_threshold"]["0.5"]
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 0)
    assert s["ap"] == pytest.approx(2 / 3)  # TP / (TP + FP + FN) = 2 / 3
    assert s["f1"] == pytest.approx(0.8)  # 2*2 / (2*2 + 1 + 0)
    assert s["mean_matched_iou"] == pytest.approx((0.75 + 2 / 3) / 2)
    assert s["panoptic_quality"] == pytest.approx((0.75 + 2 / 3) / (2 + 0.5))
    s = m["by_threshold"]["0.7"]  # only the 0.75 pair survives
    assert (s["tp"], s["fp"], s["fn"]) == (1, 2, 1)
    assert s["ap"] == pytest.approx(1 / 4) and s["f1"] == pytest.approx(2 / 5)
    assert m["by_threshold"]["0.8"]["tp"] == 0 and m["by_threshold"]["0.8"]["ap"] == 0.0
    assert m["ap_mean"] == pytest.approx((2 / 3 + 1 / 4 + 0) / 3)
    assert m["ap@0.5"] == pytest.approx(2 / 3) and m["panoptic_quality"] == pytest.approx(1.41666667 / 2.5)
    assert (m["merges"], m["splits"]) == (0, 0)


def test_overlaps_agree_with_scikit_image_contingency_table():
    rng = np.random.default_rng(3)
    true = rng.integers(0, 6, (20, 20))
    pred = rng.integers(0, 4, (20, 20)) * 3
    overlap, true_ids, pred_ids = overlap_matrix(true, pred)
    ref = contingency_table(true, pred).toarray()
    assert np.array_equal(overlap, ref[np.ix_([0, *true_ids], [0, *pred_ids])])
    iou = iou_matrix(overlap)
    i, j = 2, 1  # true label 3 vs pred label 3
    a, b = true == true_ids[i], pred == pred_ids[j]
    assert iou[i, j] == pytest.approx((a & b).sum() / (a | b).sum())


def test_label_values_do_not_matter():
    true, pred = _hand_case()
    permuted = np.select([pred == 7, pred == 3, pred == 5], [100, 1, 2], 0)
    assert match_image(true, pred) == match_image(true, permuted)


def test_iou_exactly_half_is_matched_one_to_one():
    true = np.zeros((4, 4), int)
    true[0:2, :] = 1  # 8 px
    pred = np.zeros((4, 4), int)
    pred[0:2, 0:2] = 1  # each half has IoU 4/8 = 0.5 with the true object
    pred[0:2, 2:4] = 2
    s = instance_metrics(true, pred, thresholds=(0.5,))["by_threshold"]["0.5"]
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 0)


def test_merges_and_splits():
    true = np.zeros((10, 10), int)
    true[0:4, 0:4], true[0:4, 5:9] = 1, 2  # two cells...
    pred = np.zeros((10, 10), int)
    pred[0:4, 0:9] = 1  # ...merged into one prediction
    m = instance_metrics(true, pred)
    assert (m["merges"], m["splits"]) == (1, 0)
    m = instance_metrics(pred, true)  # the other way round: one cell split in two
    assert (m["merges"], m["splits"]) == (0, 1)


def test_empty_images_and_pooling_over_images():
    empty = np.zeros((8, 8), int)
    m = instance_metrics([empty], [empty])
    assert m["ap@0.5"] == 1.0 and m["n_true"] == 0
    true, pred = _hand_case()
    m = instance_metrics([true, true[:8, :8] * 0], [pred, pred[:8, :8] * 0], thresholds=(0.5,))
    # counts are pooled: the empty pair adds nothing
    assert m["by_threshold"]["0.5"]["tp"] == 2 and m["n_images"] == 2 and len(m["per_image"]) == 2
    with pytest.raises(DataError, match="shape"):
        instance_metrics(np.zeros((4, 4), int), np.zeros((4, 5), int))

import numpy as np
import pytest
from sklearn import metrics as skm

from builder.errors import DataError
from builder.tasks.metrics.classification import classification_metrics, confusion_matrix, roc_auc_one_vs_rest


def test_hand_computed_three_classes():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0]
    m = classification_metrics(y_true, y_pred, class_names=["a", "b", "c"])
    # rows = true class, columns = predicted class
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert m["accuracy"] == pytest.approx(3 / 5)
    # recall: a 1/2, b 2/2, c 0/1 -> balanced accuracy (0.5 + 1 + 0) / 3
    assert m["balanced_accuracy"] == pytest.approx(0.5)
    # precision: a 1/(1+1), b 2/(1+2), c 0/0 -> 0
    assert m["per_class"]["a"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["c"]["precision"] == 0.0
    # F1 = 2 TP / (predicted + true): a 2/(2+2), b 4/(3+2), c 0/(0+1)
    assert [m["per_class"][k]["f1"] for k in "abc"] == pytest.approx([0.5, 0.8, 0.0])
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8) / 3)
    assert m["roc_auc"] is None  # no probabilities given


def test_roc_auc_hand_computed_binary():
    # positives score 0.35 and 0.8, negatives 0.1 and 0.4: 3 of the 4 (pos, neg) pairs are ordered -> 0.75
    aucs = roc_auc_one_vs_rest([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert aucs[1] == pytest.approx(0.75)
    assert aucs[0] == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half: (1 + 0.5) / 2
    assert roc_auc_one_vs_rest([0, 1], [[0.5, 0.5], [0.5, 0.5]])[1] == pytest.approx(0.5)


@pytest.mark.parametrize("k", [2, 4])
def test_agrees_with_scikit_learn(k):
    rng = np.random.default_rng(k)
    y_true = rng.integers(0, k, 200)
    logits = rng.normal(size=(200, k)) + 1.5 * np.eye(k)[y_true]
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    prob = np.round(prob, 2)  # create ties
    prob /= prob.sum(1, keepdims=True)
    y_pred = prob.argmax(1)
    m = classification_metrics(y_true, y_pred, prob)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    assert [m["per_class"][str(i)]["precision"] for i in range(k)] == pytest.approx(p)
    assert [m["per_class"][str(i)]["recall"] for i in range(k)] == pytest.approx(r)
    assert [m["per_class"][str(i)]["f1"] for i in range(k)] == pytest.approx(f)
    assert np.array_equal(np.array(m["confusion_matrix"]), skm.confusion_matrix(y_true, y_pred))
    ref = skm.roc_auc_score(y_true, prob[:, 1]) if k == 2 else skm.roc_auc_score(y_true, prob, multi_class="ovr")
    assert m["roc_auc"] == pytest.approx(ref)


def test_sigmoid_probabilities_and_errors():
    m = classification_metrics([0, 1, 1], probabilities=[0.2, 0.7, 0.4])
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["roc_auc"] == pytest.approx(1.0)
    with pytest.raises(DataError, match="one label per image"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(DataError, match="n_classes=2"):
        confusion_matrix([0, 2], [0, 1], n_classes=2)

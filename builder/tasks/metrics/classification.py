"""Classification metrics (numpy only): accuracy, balanced accuracy, per-class P/R/F1, confusion, ROC AUC."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

from builder.errors import DataError


def _validate_labels(y_true: Any, y_pred: Any, n_classes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    t = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise DataError(
            "classification metrics",
            f"`y_true` (shape {t.shape}) and `y_pred` (shape {p.shape}) must hold one label per image.",
            "Pass the same number of true and predicted class indices.",
        )
    if t.size and (t.min() < 0 or p.min() < 0):
        raise DataError("classification metrics", "Class indices must be >= 0.", "Use indices 0..n_classes-1.")
    t = t.astype(np.int64)
    p = p.astype(np.int64)
    found = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if n_classes is None:
        n_classes = found
    elif found > n_classes:
        raise DataError(
            "classification metrics",
            f"Found class index {found - 1} but n_classes={n_classes}.",
            "Check the class list in the recipe (data.classes).",
        )
    return t, p, int(n_classes)


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Count matrix ``C[i, j]`` = number of images of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : (N,) array of int
        True and predicted class indices.
    n_classes : int, optional
        Number of classes; by default one more than the largest index seen.

    Returns
    -------
    (K, K) ndarray of int64
    """
    t, p, k = _validate_labels(y_true, y_pred, n_classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision_recall_f1(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 from a confusion matrix (0 where undefined, like scikit-learn)."""
    tp = np.diag(cm).astype(np.float64)
    precision = _safe_div(tp, cm.sum(axis=0))
    recall = _safe_div(tp, cm.sum(axis=1))
    f1 = _safe_div(2 * tp, cm.sum(axis=0) + cm.sum(axis=1))
    return precision, recall, f1


def roc_auc_one_vs_rest(y_true: Any, probabilities: Any) -> np.ndarray:
    """Area under the ROC curve of each class against the rest.

    Computed with the rank (Mann-Whitney U) formula, which equals the trapezoidal ROC area with ties.

    Parameters
    ----------
    y_true : (N,) array of int
    probabilities : (N, K) array of float, or (N,) / (N, 1) for the positive class of a 2-class problem

    Returns
    -------
    (K,) ndarray of float; NaN for a class that is absent from (or is the only class in) ``y_true``.
    """
    t = np.asarray(y_true).reshape(-1).astype(np.int64)
    prob = np.asarray(probabilities, dtype=np.float64)
    if prob.ndim == 1 or (prob.ndim == 2 and prob.shape[1] == 1):
        pos = prob.reshape(-1)
        prob = np.stack([1.0 - pos, pos], axis=1)
    if prob.ndim != 2 or prob.shape[0] != t.size:
        raise DataError(
            "classification metrics",
            f"`probabilities` (shape {prob.shape}) must be (N, n_classes) with N={t.size}.",
            "Pass the model's class probabilities, one row per image.",
        )
    aucs = np.full(prob.shape[1], np.nan)
    for k in range(prob.shape[1]):
        positive = t == k
        n_pos = int(positive.sum())
        n_neg = t.size - n_pos
        if n_pos == 0 or n_neg == 0:
            continue
        ranks = rankdata(prob[:, k])
        aucs[k] = (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return aucs


def classification_metrics(
    y_true: Any,
    y_pred: Any | None = None,
    probabilities: Any | None = None,
    *,
    n_classes: int | None = None,
    class_names: list[str] | None = None,
) -> dict[str, Any]:
    """All classification scores in one JSON-ready dict.

    Parameters
    ----------
    y_true : (N,) array of int
        True class indices.
    y_pred : (N,) array of int, optional
        Predicted class indices; by default the arg-max of ``probabilities``.
    probabilities : (N, K) array of float, optional
        Class probabilities; needed for ROC AUC.
    n_classes : int, optional
    class_names : list of str, optional
        Names used as keys of the per-class entries; default ``"0"``, ``"1"``, ...

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy`` (mean recall over classes present in ``y_true``),
        ``macro_f1``, ``roc_auc`` (macro one-vs-rest, None if undefined), ``confusion_matrix`` (list of lists),
        ``per_class`` {name: {precision, recall, f1, support, roc_auc}}, ``n_images``.
    """
    if y_pred is None:
        if probabilities is None:
            raise DataError("classification metrics", "Neither predictions nor probabilities were given.",
                            "Pass `y_pred` or `probabilities`.")
        prob = np.asarray(probabilities, dtype=np.float64)
        y_pred = (prob.reshape(-1) > 0.5).astype(int) if prob.ndim == 1 or prob.shape[-1] == 1 else prob.argmax(-1)
    if n_classes is None and class_names is not None:
        n_classes = len(class_names)
    t, p, k = _validate_labels(y_true, y_pred, n_classes)
    cm = confusion_matrix(t, p, k)
    precision, recall, f1 = precision_recall_f1(cm)
    support = cm.sum(axis=1)
    present = support > 0
    aucs = roc_auc_one_vs_rest(t, probabilities) if probabilities is not None else np.full(k, np.nan)
    if aucs.size != k:
        raise DataError("classification metrics", f"`probabilities` has {aucs.size} classes, expected {k}.",
                        "Pass one probability column per class.")
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    finite = aucs[np.isfinite(aucs)]
    return {
        "n_images": int(t.size),
        "accuracy": float(np.trace(cm) / t.size) if t.size else float("nan"),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else float("nan"),
        "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
        "roc_auc": float(finite.mean()) if finite.size else None,
        "confusion_matrix": cm.tolist(),
        "class_names": names,
        "per_class": {
            names[i]: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
                "roc_auc": float(aucs[i]) if np.isfinite(aucs[i]) else None,
            }
            for i in range(k)
        },
    }

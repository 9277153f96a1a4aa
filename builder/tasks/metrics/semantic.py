"""Semantic segmentation metrics (numpy only): IoU and Dice per class from a pixel confusion matrix."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from builder.errors import DataError


def pixel_confusion(y_true: Any, y_pred: Any, n_classes: int) -> np.ndarray:
    """Pixel counts ``C[i, j]`` of true class ``i`` predicted as class ``j`` for one image.

    Parameters
    ----------
    y_true, y_pred : (Y, X) or (Y, X, 1) array of int
        Class index per pixel.
    n_classes : int

    Returns
    -------
    (n_classes, n_classes) ndarray of int64
    """
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.ndim == 3 and t.shape[-1] == 1:
        t = t[..., 0]
    if p.ndim == 3 and p.shape[-1] == 1:
        p = p[..., 0]
    if t.shape != p.shape:
        raise DataError(
            "segmentation metrics",
            f"`y_true` (shape {t.shape}) and `y_pred` (shape {p.shape}) must have the same shape.",
            "Compare a mask with the prediction for the same image.",
        )
    t = t.astype(np.int64).ravel()
    p = p.astype(np.int64).ravel()
    if t.size and (max(t.max(), p.max()) >= n_classes or min(t.min(), p.min()) < 0):
        raise DataError(
            "segmentation metrics",
            f"Mask values must be class indices 0..{n_classes - 1}; found {min(t.min(), p.min())}.."
            f"{max(t.max(), p.max())}.",
            "Check data.classes in the recipe and the mask files.",
        )
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def iou_dice_from_confusion(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class IoU = TP/(TP+FP+FN) and Dice = 2TP/(2TP+FP+FN); NaN for a class absent from both."""
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = tp / (tp + fp + fn)
        dice = 2 * tp / (2 * tp + fp + fn)
    return iou, dice


def semantic_metrics(
    y_true: Iterable[Any] | Any,
    y_pred: Iterable[Any] | Any,
    n_classes: int,
    *,
    class_names: list[str] | None = None,
) -> dict[str, Any]:
    """IoU and Dice per class over a set of images (pixels pooled over all images).

    Parameters
    ----------
    y_true, y_pred : (Y, X) array or list of such arrays
        Class index masks (true and predicted), same shapes pairwise.
    n_classes : int
    class_names : list of str, optional

    Returns
    -------
    dict
        ``pixel_accuracy``, ``mean_iou`` and ``mean_dice`` (over classes present in either mask),
        ``mean_iou_foreground`` (same, without class 0), ``per_class`` {name: {iou, dice, pixels}},
        ``per_image`` [{mean_iou}], ``confusion_matrix``.
    """
    if isinstance(y_true, np.ndarray) and y_true.ndim in (2, 3) and not (y_true.ndim == 3 and y_true.shape[-1] > 1):
        y_true, y_pred = [y_true], [y_pred]
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise DataError("segmentation metrics", f"{len(y_true)} masks but {len(y_pred)} predictions.",
                        "Pass one prediction per mask.")
    total = np.zeros((n_classes, n_classes), dtype=np.int64)
    per_image = []
    for t, p in zip(y_true, y_pred, strict=True):
        cm = pixel_confusion(t, p, n_classes)
        total += cm
        iou, _ = iou_dice_from_confusion(cm)
        per_image.append({"mean_iou": float(np.nanmean(iou)) if np.isfinite(iou).any() else None})
    iou, dice = iou_dice_from_confusion(total)
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]

    def _mean(a: np.ndarray) -> float | None:
        return float(np.nanmean(a)) if np.isfinite(a).any() else None

    return {
        "pixel_accuracy": float(np.trace(total) / total.sum()) if total.sum() else None,
        "mean_iou": _mean(iou),
        "mean_dice": _mean(dice),
        "mean_iou_foreground": _mean(iou[1:]) if n_classes > 1 else _mean(iou),
        "mean_dice_foreground": _mean(dice[1:]) if n_classes > 1 else _mean(dice),
        "per_class": {
            names[i]: {
                "iou": float(iou[i]) if np.isfinite(iou[i]) else None,
                "dice": float(dice[i]) if np.isfinite(dice[i]) else None,
                "pixels": int(total[i].sum()),
            }
            for i in range(n_classes)
        },
        "per_image": per_image,
        "confusion_matrix": total.tolist(),
    }

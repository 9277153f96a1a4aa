"""Instance segmentation metrics (numpy + scipy): matching by IoU, AP/F1 at IoU thresholds, PQ, merges/splits.

Conventions follow the 2018 Data Science Bowl and StarDist: at an IoU threshold ``t`` a true and a predicted
object match when their IoU is >= ``t`` (one-to-one, chosen to maximise the number of matches, then the
summed IoU), and

- ``ap`` ("average precision" in the DSB sense) = TP / (TP + FP + FN)
- ``f1`` = 2 TP / (2 TP + FP + FN), ``precision`` = TP / (TP + FP), ``recall`` = TP / (TP + FN)
- ``mean_matched_iou`` = mean IoU of the matched pairs
- ``panoptic_quality`` = sum of matched IoUs / (TP + FP/2 + FN/2)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from builder.errors import DataError

DEFAULT_IOU_THRESHOLDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)


def _squeeze_labels(labels: Any, name: str) -> np.ndarray:
    a = np.asarray(labels)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim != 2:
        raise DataError("instance metrics", f"`{name}` must be a (Y, X) label image; received shape {a.shape}.",
                        "Pass instance labels with 0 for background and 1, 2, ... for objects.")
    if a.size and a.min() < 0:
        raise DataError("instance metrics", f"`{name}` has negative labels.", "Use 0 for background, >0 for objects.")
    return a.astype(np.int64, copy=False)


def overlap_matrix(true: Any, pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel overlaps between the objects of two label images.

    Returns
    -------
    overlap : (n_true + 1, n_pred + 1) ndarray of int64
        Row/column 0 is background; rows/columns follow ``true_ids`` / ``pred_ids``.
    true_ids, pred_ids : ndarray of int
        The object labels (without 0) in row and column order.
    """
    t = _squeeze_labels(true, "true")
    p = _squeeze_labels(pred, "pred")
    if t.shape != p.shape:
        raise DataError("instance metrics", f"`true` (shape {t.shape}) and `pred` (shape {p.shape}) differ in shape.",
                        "Compare labels of the same image.")
    true_ids, t_idx = np.unique(t, return_inverse=True)
    pred_ids, p_idx = np.unique(p, return_inverse=True)
    # make row/column 0 the background even if an image has no background pixel
    if true_ids.size == 0 or true_ids[0] != 0:
        true_ids = np.concatenate([[0], true_ids])
        t_idx = t_idx + 1
    if pred_ids.size == 0 or pred_ids[0] != 0:
        pred_ids = np.concatenate([[0], pred_ids])
        p_idx = p_idx + 1
    nt, np_ = true_ids.size, pred_ids.size
    overlap = np.bincount(t_idx.ravel() * np_ + p_idx.ravel(), minlength=nt * np_).reshape(nt, np_)
    return overlap, true_ids[1:], pred_ids[1:]


def iou_matrix(overlap: np.ndarray) -> np.ndarray:
    """IoU between every true (rows) and predicted (columns) object, background excluded."""
    inter = overlap[1:, 1:].astype(np.float64)
    area_t = overlap[1:, :].sum(axis=1, keepdims=True)
    area_p = overlap[:, 1:].sum(axis=0, keepdims=True)
    union = area_t + area_p - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_pairs(iou: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching with IoU >= ``threshold``: most matches first, then largest summed IoU.

    For ``threshold > 0.5`` a match is unique anyway (IoU > 0.5 cannot hold for two partners); the Hungarian
    algorithm makes the lower thresholds correct too.

    Returns
    -------
    rows, cols : ndarray of int
        Indices into ``iou`` of the matched pairs.
    """
    if iou.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    ok = iou >= threshold
    if threshold > 0.5:
        rows, cols = np.nonzero(ok)
        return rows, cols
    n = min(iou.shape)
    cost = -(ok.astype(np.float64)) - iou / (2.0 * n)
    cost[~ok] = 0.0
    rows, cols = linear_sum_assignment(cost)
    keep = ok[rows, cols]
    return rows[keep], cols[keep]


def merges_and_splits(overlap: np.ndarray, cover: float = 0.5) -> tuple[int, int]:
    """Count merges and splits.

    A *merge* is a predicted object that contains at least ``cover`` of the area of two or more true objects.
    A *split* is a true object that contains at least ``cover`` of the area of two or more predicted objects.
    """
    inter = overlap[1:, 1:].astype(np.float64)
    if inter.size == 0:
        return 0, 0
    area_t = overlap[1:, :].sum(axis=1, keepdims=True)
    area_p = overlap[:, 1:].sum(axis=0, keepdims=True)
    true_covered = inter / np.maximum(area_t, 1) >= cover  # true i mostly inside pred j
    pred_covered = inter / np.maximum(area_p, 1) >= cover  # pred j mostly inside true i
    merges = int((true_covered.sum(axis=0) >= 2).sum())
    splits = int((pred_covered.sum(axis=1) >= 2).sum())
    return merges, splits


def _scores(tp: int, fp: int, fn: int, iou_sum: float) -> dict[str, float]:
    def div(a: float, b: float) -> float:
        return float(a / b) if b > 0 else (1.0 if a == 0 else 0.0)

    return {
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "precision": div(tp, tp + fp),
        "recall": div(tp, tp + fn),
        "ap": div(tp, tp + fp + fn),
        "f1": div(2 * tp, 2 * tp + fp + fn),
        "mean_matched_iou": float(iou_sum / tp) if tp else 0.0,
        "panoptic_quality": float(iou_sum / (tp + fp / 2 + fn / 2)) if (tp + fp + fn) else 1.0,
    }


def match_image(true: Any, pred: Any, thresholds: Sequence[float] = DEFAULT_IOU_THRESHOLDS) -> dict[str, Any]:
    """Match the objects of one image at each IoU threshold.

    Returns
    -------
    dict
        ``n_true``, ``n_pred``, ``merges``, ``splits`` and ``by_threshold`` {t: {tp, fp, fn, iou_sum}}.
        Use :func:`instance_metrics` for the final scores.
    """
    overlap, true_ids, pred_ids = overlap_matrix(true, pred)
    iou = iou_matrix(overlap)
    merges, splits = merges_and_splits(overlap)
    by_t = {}
    for t in thresholds:
        rows, cols = match_pairs(iou, float(t))
        tp = int(rows.size)
        by_t[float(t)] = {
            "tp": tp,
            "fp": int(pred_ids.size - tp),
            "fn": int(true_ids.size - tp),
            "iou_sum": float(iou[rows, cols].sum()),
        }
    return {"n_true": int(true_ids.size), "n_pred": int(pred_ids.size), "merges": merges, "splits": splits,
            "by_threshold": by_t}


def instance_metrics(
    true: Iterable[Any] | Any,
    pred: Iterable[Any] | Any,
    thresholds: Sequence[float] = DEFAULT_IOU_THRESHOLDS,
) -> dict[str, Any]:
    """Instance scores over a set of images (counts pooled over images, like StarDist's ``by_image=False``).

    Parameters
    ----------
    true, pred : (Y, X) label array or list of such arrays
        True and predicted instance labels (0 background).
    thresholds : sequence of float
        IoU thresholds.

    Returns
    -------
    dict
        ``by_threshold`` {"0.5": {tp, fp, fn, precision, recall, ap, f1, mean_matched_iou, panoptic_quality}},
        ``ap_mean`` and ``f1_mean`` (averaged over thresholds), shortcut keys ``ap@0.5``, ``f1@0.5``,
        ``mean_matched_iou`` and ``panoptic_quality`` (at 0.5), ``merges``, ``splits``, ``n_true``, ``n_pred``,
        ``per_image`` (ap and f1 at the first threshold for each image, for worst-case listings).
    """
    if isinstance(true, np.ndarray) and (true.ndim == 2 or (true.ndim == 3 and true.shape[-1] == 1)):
        true, pred = [true], [pred]
    true, pred = list(true), list(pred)
    if len(true) != len(pred):
        raise DataError("instance metrics", f"{len(true)} true label images but {len(pred)} predictions.",
                        "Pass one prediction per label image.")
    thresholds = [float(t) for t in thresholds]
    sums = {t: {"tp": 0, "fp": 0, "fn": 0, "iou_sum": 0.0} for t in thresholds}
    merges = splits = n_true = n_pred = 0
    per_image = []
    for t_img, p_img in zip(true, pred, strict=True):
        m = match_image(t_img, p_img, thresholds)
        merges += m["merges"]
        splits += m["splits"]
        n_true += m["n_true"]
        n_pred += m["n_pred"]
        for t in thresholds:
            for key in sums[t]:
                sums[t][key] += m["by_threshold"][t][key]
        first = m["by_threshold"][thresholds[0]] if thresholds else None
        if first is not None:
            s = _scores(first["tp"], first["fp"], first["fn"], first["iou_sum"])
            per_image.append({"ap": s["ap"], "f1": s["f1"], "n_true": m["n_true"], "n_pred": m["n_pred"]})
    by_t = {f"{t:g}": _scores(int(sums[t]["tp"]), int(sums[t]["fp"]), int(sums[t]["fn"]), float(sums[t]["iou_sum"]))
            for t in thresholds}
    out: dict[str, Any] = {
        "by_threshold": by_t,
        "ap_mean": float(np.mean([s["ap"] for s in by_t.values()])) if by_t else None,
        "f1_mean": float(np.mean([s["f1"] for s in by_t.values()])) if by_t else None,
        "merges": merges,
        "splits": splits,
        "n_true": n_true,
        "n_pred": n_pred,
        "n_images": len(true),
        "per_image": per_image,
    }
    if "0.5" in by_t:
        s = by_t["0.5"]
        out.update({"ap@0.5": s["ap"], "f1@0.5": s["f1"], "mean_matched_iou": s["mean_matched_iou"],
                    "panoptic_quality": s["panoptic_quality"]})
    return out

"""Where SEG is lost: each annotated cell's share of ``1 - SEG``, by kind of error.

SEG (Cell Tracking Challenge) is the mean over the annotated cells of the annotated frames of the IoU with the
computed object that covers more than half of the cell (0 when none does). ``1 - SEG`` is split here into
cells with no such object (*missed*), cells whose object also covers another annotated cell (*merged*), and the
outline error of the other cells, itself split into pixels the object lacks (*too small*) and pixels it adds
(*too large*) relative to the union.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def _cell_errors(truth: np.ndarray, pred: np.ndarray) -> list[dict[str, Any]]:
    truth, pred = np.asarray(truth), np.asarray(pred)
    rows = []
    owner_of: dict[int, list[int]] = {}
    found: dict[int, int] = {}
    for label in np.unique(truth[truth > 0]):
        cell = truth == label
        under = pred[cell]
        values, counts = np.unique(under[under > 0], return_counts=True)
        k = int(np.argmax(counts)) if counts.size else -1
        if k >= 0 and counts[k] * 2 > cell.sum():
            found[int(label)] = int(values[k])
            owner_of.setdefault(int(values[k]), []).append(int(label))
    for label in np.unique(truth[truth > 0]):
        cell = truth == label
        obj = found.get(int(label))
        if obj is None:
            rows.append({"label": int(label), "kind": "missed", "iou": 0.0, "lacking": 0.0, "extra": 0.0})
            continue
        other = pred == obj
        union = float((cell | other).sum())
        iou = float((cell & other).sum()) / union
        kind = "merged" if len(owner_of[obj]) > 1 else "matched"
        rows.append({"label": int(label), "kind": kind, "iou": iou, "lacking": float((cell & ~other).sum()) / union,
                     "extra": float((other & ~cell).sum()) / union, "area_ratio": float(other.sum() / cell.sum())})
    return rows


def seg_breakdown(ref_seg: Mapping[int, np.ndarray], masks: np.ndarray) -> dict[str, Any]:
    """``SEG`` and how ``1 - SEG`` splits into missed, merged, too-small and too-large outlines.

    Parameters
    ----------
    ref_seg : dict of int to (Y, X) int array
        Annotated frames (index into ``masks``) with their annotated cells.
    masks : (T, Y, X) int array
        Computed objects per frame.

    Returns
    -------
    dict
        ``cells``, ``SEG``, ``lost_missed``, ``lost_merged``, ``lost_too_small``, ``lost_too_large`` (shares of
        SEG lost, adding up to ``1 - SEG``), ``missed``, ``merged`` (counts), ``matched_iou`` (mean IoU of the
        other cells) and ``area_ratio`` (median computed / annotated area of those cells).
    """
    rows = [r for t, truth in sorted(ref_seg.items()) for r in _cell_errors(truth, masks[t])]
    n = max(len(rows), 1)
    matched = [r for r in rows if r["kind"] == "matched"]
    return {
        "cells": len(rows),
        "SEG": sum(r["iou"] for r in rows) / n,
        "lost_missed": sum(1.0 for r in rows if r["kind"] == "missed") / n,
        "lost_merged": sum(1.0 - r["iou"] for r in rows if r["kind"] == "merged") / n,
        "lost_too_small": sum(r["lacking"] for r in matched) / n,
        "lost_too_large": sum(r["extra"] for r in matched) / n,
        "missed": sum(1 for r in rows if r["kind"] == "missed"),
        "merged": sum(1 for r in rows if r["kind"] == "merged"),
        "matched_iou": float(np.mean([r["iou"] for r in matched])) if matched else None,
        "area_ratio": float(np.median([r["area_ratio"] for r in matched])) if matched else None,
    }

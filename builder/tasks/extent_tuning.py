"""Second stage of post-processing tuning: the foreground threshold chosen by how well the outlines fit.

The seed settings decide which cells are found, and the detection-style scores that choose them hardly see the
outline: a foreground threshold that makes every cell a pixel too wide scores the same detections. Once seeds
and ``min_size`` are chosen, :func:`refine_extent` tries thresholds on a finer grid around the chosen one and
keeps the one with the best outline score (e.g. the mean IoU of each true cell with the cell found there, the
CTC SEG measure) among those that keep the detection score within a margin, when it beats the first stage's value
by more than that margin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: Per target: the post-processing setting that sets the objects' extent (targets without one are not refined).
EXTENT_PARAM: dict[str, str] = {"three_class": "threshold", "distance": "threshold"}

#: Step of the finer grid and how many steps are tried on each side of the chosen threshold.
EXTENT_STEP = 0.025
EXTENT_STEPS = 4


def extent_candidates(chosen: float, step: float = EXTENT_STEP, steps: int = EXTENT_STEPS) -> list[float]:
    """``chosen`` first, then ``chosen ± k * step`` (k = 1..``steps``) strictly between 0 and 1."""
    out = [float(chosen)]
    for k in range(1, steps + 1):
        for value in (chosen - k * step, chosen + k * step):
            value = round(float(value), 6)
            if 0.0 < value < 1.0 and value not in out:
                out.append(value)
    return out


def refine_extent(
    labelled: Callable[[dict[str, Any]], list[np.ndarray]],
    labels: Sequence[Any],
    chosen: dict[str, Any],
    *,
    param: str,
    extent_fn: Callable[[list[Any], list[np.ndarray]], float],
    score_fn: Callable[[list[Any], list[np.ndarray]], float],
    margin: float = 0.0,
) -> dict[str, Any]:
    """The chosen settings with ``param`` moved to the value with the best ``extent_fn`` on the validation images.

    Parameters
    ----------
    labelled : callable
        ``(settings) -> predicted label images`` of the validation images.
    labels : list of (Y, X) arrays
        True instance labels of the same images.
    chosen : dict
        Settings chosen by the first stage, with their ``score`` (of ``score_fn``).
    param : str
        The setting that sets the objects' extent (see :data:`EXTENT_PARAM`).
    extent_fn, score_fn : callable
        ``(labels, predicted labels) -> value`` (higher is better): the outline score that decides, and the
        detection score that must stay within ``margin`` of ``chosen["score"]``.
    margin : float
        How far the detection score may drop, and how much more than the first stage's value another value's
        ``extent_score`` must reach to replace it (measured on SIM+: a 0.001 better validation SEG from six
        frames was 0.005 worse on the twenty test frames).

    Returns
    -------
    dict
        ``chosen`` updated with the kept value of ``param``, its ``score``, ``extent_score`` (of the kept value),
        ``start_extent_score`` (of the first stage's value) and ``extent_tried`` (list of {param, score,
        extent_score}). The first stage's value stays unless another scores more than ``margin`` higher.
    """
    rows: list[dict[str, Any]] = []
    for value in extent_candidates(float(chosen[param])):
        settings = {**chosen, param: value}
        preds = labelled(settings)
        score = float(chosen["score"]) if not rows else float(score_fn(list(labels), preds))
        rows.append({param: value, "score": score, "extent_score": float(extent_fn(list(labels), preds))})
    allowed = [r for r in rows if r["score"] >= float(chosen["score"]) - margin]
    best = max(allowed, key=lambda r: r["extent_score"])  # on ties the first (the first stage's value)
    if best["extent_score"] <= rows[0]["extent_score"] + margin:
        best = rows[0]  # a gain a few validation images cannot tell from chance does not move the threshold
    return {**chosen, param: best[param], "score": best["score"], "extent_score": best["extent_score"],
            "start_extent_score": rows[0]["extent_score"], "extent_tried": rows}

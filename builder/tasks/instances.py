"""Instance segmentation: training targets from instance labels, seeded-watershed post-processing, tuning.

Three targets are offered (``train.instance_target``):

- ``three_class``: 0 background, 1 boundary (the object pixels that touch background or another object),
  2 interior. The network predicts softmax probabilities (Y, X, 3).
- ``distance`` (in the spirit of DeepCell): channel 0 is the *inner distance*, the distance of each object pixel
  to its own object's edge divided by the largest such distance in that object (1 at the centre, small at the
  edge, 0 in the background); channel 1 is the *outer distance*, the same distance in pixels capped at
  :data:`OUTER_CAP` and divided by it (a foreground map with soft edges). The network regresses both (linear).

- ``star_convex``: object probability plus distances to the edge along 32 rays
  (:mod:`builder.tasks.star_convex`); instances are polygons kept by non-maximum suppression
  (:mod:`builder.tasks.star_nms`), so touching objects stay separate.

The first two become instance labels by a seeded watershed: seeds are where the interior/inner map exceeds
``seed_threshold``, the objects' extent is where the foreground map exceeds ``threshold``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from builder.errors import DataError
from builder.tasks.classical import classical_instances  # noqa: F401  (re-exported)
from builder.tasks.extent_tuning import EXTENT_PARAM
from builder.tasks.label_arrays import NO_TARGET
from builder.tasks.label_arrays import labels_2d as _labels_2d
from builder.tasks.seeded_watershed import seeded_watershed as _seeded_watershed

#: Distance (pixels) at which the outer-distance target reaches 1.
OUTER_CAP = 2.0


#: Class index of pixels without a class (negative mask values): the losses give them no weight.
NO_CLASS = 3


def three_class_target(labels: Any) -> np.ndarray:
    """Background (0) / boundary (1) / interior (2) classes from instance labels; negative labels -> NO_CLASS.

    Parameters
    ----------
    labels : (Y, X) or (Y, X, 1) array of int
        Instance labels, 0 = background.

    Returns
    -------
    (Y, X) or (Y, X, 1) ndarray of int32 (same layout as ``labels``)
    """
    from skimage.segmentation import find_boundaries

    lab, had_channel = _labels_2d(labels)
    ignored = lab < 0  # cells nobody outlined (builder.data.partial_masks.IGNORE): class 3, which weighs nothing
    lab = np.where(ignored, 0, lab)
    boundary = find_boundaries(lab, mode="inner") & (lab > 0)
    out = np.where(lab > 0, 2, 0).astype(np.int32)
    out[boundary] = 1
    out[ignored] = NO_CLASS
    return out[..., None] if had_channel else out


def three_class_training_target(labels: Any) -> np.ndarray:
    """:func:`three_class_target` as the ``(Y, X, 1)`` float32 class-index target the data pipeline expects."""
    t = three_class_target(labels)
    return (t if t.ndim == 3 else t[..., None]).astype(np.float32)


def _per_object_edt(lab: np.ndarray) -> np.ndarray:
    """Distance of each object pixel to the nearest pixel outside its own object (neighbours count as outside)."""
    dist = np.zeros(lab.shape, dtype=np.float64)
    for i, sl in enumerate(ndi.find_objects(lab), start=1):
        if sl is None:
            continue
        sl = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in sl)
        obj = np.pad(lab[sl] == i, 1)  # padding: image border counts as edge
        d = ndi.distance_transform_edt(obj)[1:-1, 1:-1]
        inside = lab[sl] == i
        dist[sl][inside] = d[inside]
    return dist


def distance_targets(labels: Any) -> np.ndarray:
    """Inner and outer distance maps (DeepCell-style) from instance labels.

    Parameters
    ----------
    labels : (Y, X) or (Y, X, 1) array of int

    Returns
    -------
    (Y, X, 2) ndarray of float32
        Channel 0: inner distance in [0, 1] (1 at each object's centre); channel 1: outer distance in [0, 1].
        Pixels with a negative label (cells nobody outlined) are :data:`NO_TARGET` in both channels.
    """
    lab, _ = _labels_2d(labels)
    ignored = lab < 0
    lab = np.where(ignored, 0, lab)
    dist = _per_object_edt(lab)
    peak = ndi.maximum(dist, lab, index=np.arange(lab.max() + 1)) if lab.max() > 0 else np.zeros(1)
    peak = np.asarray(peak, dtype=np.float64)
    inner = np.where(lab > 0, dist / np.maximum(peak[lab], 1e-9), 0.0)
    outer = np.minimum(dist, OUTER_CAP) / OUTER_CAP
    out = np.stack([inner, outer], axis=-1).astype(np.float32)
    out[ignored] = NO_TARGET
    return out


def _check_channels(pred: Any, k: int, name: str) -> np.ndarray:
    p = np.asarray(pred, dtype=np.float32)
    if p.ndim != 3 or p.shape[-1] != k:
        raise DataError("instance post-processing", f"`{name}` must be (Y, X, {k}); received shape {p.shape}.",
                        "Pass the network output for one image (batch axis removed).")
    return p


def instances_from_three_class(
    prob: Any, *, seed_threshold: float = 0.5, threshold: float = 0.5, min_size: int = 10
) -> np.ndarray:
    """Instance labels from background/boundary/interior probabilities.

    Parameters
    ----------
    prob : (Y, X, 3) array of float
        Softmax output: background, boundary, interior.
    seed_threshold : float
        Interior probability above which a pixel belongs to a seed.
    threshold : float
        Foreground probability (boundary + interior) above which a pixel belongs to an object.
    min_size : int
        Smallest object kept, in pixels.

    Returns
    -------
    (Y, X) ndarray of int32
    """
    p = _check_channels(prob, 3, "prob")
    interior = p[..., 2]
    foreground = (p[..., 1] + p[..., 2]) > threshold
    return _seeded_watershed(interior, interior > seed_threshold, foreground, min_size)


def instances_from_distance(
    pred: Any, *, seed_threshold: float = 0.5, threshold: float = 0.5, min_size: int = 10
) -> np.ndarray:
    """Instance labels from predicted inner/outer distance maps (see :func:`distance_targets`).

    Parameters
    ----------
    pred : (Y, X, 2) array of float
        Channel 0 inner distance, channel 1 outer distance.
    seed_threshold : float
        Inner distance above which a pixel belongs to a seed.
    threshold : float
        Outer distance above which a pixel belongs to an object.
    min_size : int

    Returns
    -------
    (Y, X) ndarray of int32
    """
    p = _check_channels(pred, 2, "pred")
    inner = ndi.gaussian_filter(p[..., 0], 1.0)
    foreground = p[..., 1] > threshold
    return _seeded_watershed(inner, inner > seed_threshold, foreground, min_size)


def instances_from_star(pred: Any, **params: Any) -> np.ndarray:
    """Instance labels from a star-convex output (see :func:`builder.tasks.star_nms.instances_from_star`)."""
    from builder.tasks.star_nms import instances_from_star as from_star

    return from_star(pred, **params)


POSTPROCESS = {"three_class": instances_from_three_class, "distance": instances_from_distance,
               "star_convex": instances_from_star}

#: The post-processing parameters each target uses (others in a settings dict are ignored).
POSTPROCESS_PARAMS: dict[str, tuple[str, ...]] = {
    "three_class": ("threshold", "seed_threshold", "min_size"),
    "distance": ("threshold", "seed_threshold", "min_size"),
    "star_convex": ("threshold", "nms_threshold", "min_size"),
}

DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "threshold": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
    "seed_threshold": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
}

#: Per target: the thresholds tuned on the validation images and the values tried.
TUNING_GRIDS: dict[str, dict[str, tuple[float, ...]]] = {
    "three_class": DEFAULT_GRID,
    "distance": DEFAULT_GRID,
    "star_convex": {"threshold": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                    "nms_threshold": (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)},
}


def postprocess_instances(pred: Any, target: str = "three_class", **params: Any) -> np.ndarray:
    """Instance labels from a network output, by target name; settings the target does not use are ignored."""
    if target not in POSTPROCESS:
        raise DataError("train.instance_target", f"Unknown instance target {target!r}.",
                        f"Use one of: {', '.join(POSTPROCESS)}.")
    used = {k: v for k, v in params.items() if k in POSTPROCESS_PARAMS[target]}
    return POSTPROCESS[target](pred, **used)


#: Sizes tried for ``min_size``, as fractions of the median true object area of the validation images.
MIN_SIZE_FRACTIONS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


def min_size_candidates(labels: Sequence[Any], start: int) -> list[int]:
    """``start`` first, then fractions of the median object area (pixels) of ``labels``."""
    areas = np.concatenate([np.bincount(np.asarray(lab, np.int64).ravel())[1:] for lab in labels]) \
        if labels else np.zeros(0)
    areas = areas[areas > 0]
    median = float(np.median(areas)) if areas.size else 0.0
    out = [int(start)]
    for fraction in MIN_SIZE_FRACTIONS:
        size = int(round(fraction * median))
        if size not in out:
            out.append(size)
    return out


def _better(current: dict[str, Any], challenger: dict[str, Any], margin: float) -> dict[str, Any]:
    """``challenger`` when it beats ``current`` by more than ``margin``, else ``current``."""
    return challenger if challenger["score"] > current["score"] + margin else current


def _choose(rows: list[dict[str, Any]], margin: float, tie_break: Callable[[dict[str, Any]], float] | None
            ) -> dict[str, Any]:
    """The row to keep of ``rows`` (the first is the starting point).

    Without ``tie_break``: the best score when it beats the first by more than ``margin``, else the first. With
    it: of the rows within ``margin`` of the best score, those with the highest ``tie_break`` value; of these the
    first when it is one of them, else the highest score. A second measure decides where the score cannot tell
    the settings apart, and the starting point stays where neither can.
    """
    best = max(rows, key=lambda r: r["score"])  # on ties the first (start) wins
    if tie_break is None:
        return _better(rows[0], best, margin)
    near = [r for r in rows if r["score"] >= best["score"] - margin]
    for row in near:
        if "tie_break" not in row:
            row["tie_break"] = float(tie_break(row))
    top = max(r["tie_break"] for r in near)
    kept = [r for r in near if r["tie_break"] == top]
    return rows[0] if rows[0] in kept else max(kept, key=lambda r: r["score"])


def tune_postprocess(
    predictions: Sequence[Any],
    labels: Sequence[Any],
    *,
    target: str = "three_class",
    start: dict[str, float] | None = None,
    grid: dict[str, Sequence[float]] | None = None,
    min_size: int = 10,
    iou_thresholds: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9),
    tune_min_size: bool = True,
    progress: Callable[[int, int], None] | None = None,
    score_fn: Callable[[list[Any], list[np.ndarray]], float] | None = None,
    margin: float = 0.0,
    tie_break: Callable[[list[np.ndarray]], float] | None = None,
    extent_fn: Callable[[list[Any], list[np.ndarray]], float] | None = None,
) -> dict[str, Any]:
    """Choose the thresholds and ``min_size`` that score best on validation images.

    Every combination of the target's thresholds on ``grid`` (plus ``start``) is tried with ``min_size``
    (``threshold`` and ``seed_threshold`` for three_class and distance, ``threshold`` and ``nms_threshold`` for
    star_convex; see :data:`TUNING_GRIDS`); then, with the best combination, ``min_size`` values from
    :func:`min_size_candidates` (fractions of the median true object area, so small fragments go and small real
    objects stay). The score is the DSB average precision averaged over ``iou_thresholds`` (counts pooled over
    images). The starting point is kept when nothing beats it.

    Parameters
    ----------
    predictions : list of (Y, X, K) arrays
        Network outputs for the validation images.
    labels : list of (Y, X) arrays
        True instance labels of the same images (on the network's pixel grid).
    target : {"three_class", "distance", "star_convex"}
    start : dict, optional
        The current thresholds (e.g. from the recipe).
    grid : dict, optional
        Values to try per parameter; default ``TUNING_GRIDS[target]``.
    min_size : int
        Starting smallest object size in pixels.
    iou_thresholds : sequence of float
    tune_min_size : bool
        Also tune ``min_size`` (second stage).
    progress : callable, optional
        Called as ``progress(done, total)`` after each setting is scored (a long step on many images).
    score_fn : callable, optional
        ``(labels, predicted labels) -> score`` (higher is better) instead of the average precision (e.g. the
        tracking task's detection and segmentation measures).
    margin : float
        A candidate replaces the starting point (and a ``min_size`` the best pair's) only when it scores more
        than ``margin`` higher: differences smaller than what a few validation images can tell apart do not move
        the thresholds away from the recipe's.
    tie_break : callable, optional
        ``(predicted labels) -> value`` (higher is better), asked only of the settings within ``margin`` of the
        best score: the one with the highest value is kept (then the highest score), e.g. the tracking task's
        division F1 on the validation frames, so that the margin does not trade divisions away.

    Returns
    -------
    dict
        The tuned thresholds, ``min_size``, ``score`` (best), ``start_score`` (None without ``start``) and
        ``tried`` (list of {thresholds..., min_size, score}).
    """
    from builder.tasks.metrics.instances import instance_metrics

    predictions, labels = list(predictions), list(labels)
    if not predictions or len(predictions) != len(labels):
        raise DataError("post-processing tuning", f"{len(predictions)} predictions and {len(labels)} label images.",
                        "Tune on at least one validation image with its mask.")
    if target not in TUNING_GRIDS:
        raise DataError("train.instance_target", f"Unknown instance target {target!r}.",
                        f"Use one of: {', '.join(TUNING_GRIDS)}.")
    grid = {**TUNING_GRIDS[target], **{k: v for k, v in (grid or {}).items() if k in TUNING_GRIDS[target]}}
    names = list(grid)
    candidates = [dict(zip(names, map(float, values), strict=True)) for values in itertools.product(*grid.values())]
    if start is not None:
        candidates.insert(0, {k: float(start[k]) for k in names})
    tried: list[dict[str, Any]] = []

    def labelled(row: dict[str, Any]) -> list[np.ndarray]:
        params = {k: row[k] for k in names}
        return [postprocess_instances(p, target, **params, min_size=int(row["min_size"])) for p in predictions]

    second = None if tie_break is None else (lambda row: tie_break(labelled(row)))

    def score(params: dict[str, float], size: int) -> None:
        pred_labels = [postprocess_instances(p, target, **params, min_size=size) for p in predictions]
        value = score_fn(labels, pred_labels) if score_fn is not None else \
            instance_metrics(labels, pred_labels, iou_thresholds)["ap_mean"]
        tried.append({**params, "min_size": size, "score": float(value)})

    sizes = min_size_candidates(labels, int(min_size))[1:] if tune_min_size else []
    total = len(candidates) + len(sizes)

    def scored(params: dict[str, float], size: int) -> None:
        score(params, size)
        if progress is not None:
            progress(len(tried), total)

    for candidate in candidates:
        scored(candidate, int(min_size))
    best = _choose(tried, margin, second)
    if sizes:
        chosen = {k: best[k] for k in names}
        for size in sizes:
            scored(chosen, size)
        same = [best] + [r for r in tried if all(r[k] == chosen[k] for k in names) and r is not best]
        best = _choose(same, margin, second)
    extent: dict[str, Any] = {}
    if extent_fn is not None and target in EXTENT_PARAM:
        from builder.tasks.extent_tuning import refine_extent

        refined = refine_extent(labelled, labels, best, param=EXTENT_PARAM[target], extent_fn=extent_fn,
                                score_fn=score_fn or (lambda t, p: instance_metrics(t, p, iou_thresholds)["ap_mean"]),
                                margin=margin)
        best = {**best, EXTENT_PARAM[target]: refined[EXTENT_PARAM[target]], "score": refined["score"]}
        extent = {k: refined[k] for k in ("extent_score", "start_extent_score", "extent_tried")}
    return {
        **{k: best[k] for k in names},
        "min_size": int(best["min_size"]),
        "score": best["score"],
        "start_score": tried[0]["score"] if start is not None else None,
        "tried": tried,
        **extent,
    }

"""The results tables: headline metrics with a plain-language meaning, then a compact detail table per task.

Instance segmentation: headline metrics (model vs the classical baseline) and one row per IoU threshold;
classification and segmentation: headline metrics and a per-class table; image-to-image: model vs raw input
with the gain.
"""

from __future__ import annotations

import math
from typing import Any

from builder.report.content import Section, fmt
from builder.report.run_data import RunData

#: (label, metric keys tried in order, meaning, higher is better) per task.
HEADLINE_METRICS: dict[str, list[tuple[str, tuple[str, ...], str, bool]]] = {
    "instance_segmentation": [
        ("AP@0.5", ("ap@0.5",), "Matched objects / (matched + false + missed), an object counting as matched "
         "when it overlaps a true one by IoU >= 0.5; 1 is perfect.", True),
        ("F1@0.5", ("f1@0.5",), "Balance of precision (predicted objects that are real) and recall (real objects "
         "that are found) at IoU 0.5.", True),
        ("Mean AP, IoU 0.5-0.9", ("ap_mean",), "AP averaged over the stricter thresholds too: rewards exact "
         "outlines.", True),
        ("Mean matched IoU", ("mean_matched_iou",), "How closely the outlines of found objects follow the true "
         "ones (1 = identical).", True),
        ("Panoptic quality", ("panoptic_quality", "pq"), "Detection (F1) times outline quality (matched IoU) at "
         "IoU 0.5.", True),
        ("Merges", ("merges",), "Predicted objects that swallow two or more true objects (lower is better).", False),
        ("Splits", ("splits",), "True objects cut into two or more predicted objects (lower is better).", False),
        ("True objects", ("n_true",), "Objects drawn in the ground truth of the test images.", True),
        ("Predicted objects", ("n_pred",), "Objects the method found in the same images.", True),
    ],
    "classification": [
        ("Accuracy", ("accuracy",), "Fraction of test images given the right class.", True),
        ("Balanced accuracy", ("balanced_accuracy",), "Accuracy averaged over classes: rare classes count as much "
         "as common ones.", True),
        ("Macro F1", ("macro_f1",), "Precision/recall balance averaged over classes.", True),
        ("ROC AUC", ("roc_auc",), "Chance that a random image of a class is ranked above one of another class "
         "(0.5 = guessing, 1 = perfect).", True),
    ],
    "segmentation": [
        ("Mean IoU", ("mean_iou",), "Overlap of predicted and true regions (intersection / union), averaged over "
         "classes; 1 is perfect.", True),
        ("Mean Dice", ("mean_dice",), "Same overlap measured as 2 x intersection / (sum of sizes); always >= IoU.",
         True),
        ("Mean IoU, foreground", ("mean_iou_foreground",), "Mean IoU without the background class.", True),
        ("Pixel accuracy", ("pixel_accuracy",), "Fraction of pixels given the right class (flattered by a large "
         "background).", True),
    ],
    "image_to_image": [
        ("PSNR (dB)", ("psnr",), "Closeness to the target in decibels; +3 dB halves the squared error.", True),
        ("SSIM", ("ssim",), "Structural similarity to the target (1 = identical structures).", True),
        ("Pearson r", ("pearson",), "Linear correlation of pixel values with the target (1 = perfect).", True),
        ("NRMSE", ("nrmse",), "Root-mean-square error relative to the target's range (lower is better).", False),
    ],
}

THRESHOLD_COLUMNS = (("precision", "precision"), ("recall", "recall"), ("F1", "f1"), ("AP", "ap"),
                     ("PQ", "panoptic_quality"))


def lookup(values: dict[str, Any] | None, keys: tuple[str, ...]) -> float | None:
    """The first of ``keys`` present in ``values`` (case-insensitive) as a float, else None."""
    lowered = {str(k).lower(): v for k, v in (values or {}).items()}
    for key in keys:
        value = lowered.get(key.lower())
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def _number(value: float | None, keys: tuple[str, ...]) -> str:
    if value is not None and keys[0] in ("merges", "splits", "n_true", "n_pred") and float(value).is_integer():
        return fmt(int(value))
    return fmt(value)


def baseline_of(run: RunData) -> dict[str, Any] | None:
    """``metrics.json`` ``baseline`` ({"name", "metrics"}) when it holds numbers."""
    base = (run.metrics or {}).get("baseline")
    return base if isinstance(base, dict) and isinstance(base.get("metrics"), dict) and base["metrics"] else None


def headline_table(run: RunData) -> tuple[list[str], list[list[str]], str] | None:
    """(header, rows, caption) of the task's headline metrics, model vs baseline or raw input when recorded."""
    metrics = run.metrics or {}
    values = metrics.get("metrics") or {}
    spec = HEADLINE_METRICS.get(run.task)
    if not spec:
        return None
    base = baseline_of(run)
    inputs = metrics.get("input_baseline") if isinstance(metrics.get("input_baseline"), dict) else None
    rows = []
    for label, keys, meaning, higher in spec:
        value = lookup(values, keys)
        if value is None:
            continue
        row = [label, _number(value, keys)]
        if base:
            row.append(_number(lookup(base["metrics"], keys), keys))
        if inputs:
            before = lookup(inputs, keys)
            row += [fmt(before), _gain(value, before, higher)]
        rows.append([*row, meaning])
    if not rows:
        return None
    header = ["metric", "model"]
    where = f"{metrics.get('split', 'test')} split ({metrics.get('n_images', '?')} images)"
    caption = f"Main metrics on the {where}."
    if base:
        header.append("classical baseline")
        caption += f" Classical baseline: {base.get('name', 'classical method')}, run on the same images."
    if inputs:
        header += ["input (no model)", "gain"]
        caption += " 'input' scores the raw input against the target: the gain is what the model adds."
    return [*header, "what it means"], rows, caption


def _gain(value: float, before: float | None, higher: bool) -> str:
    if before is None:
        return "-"
    diff = value - before
    better = diff > 0 if higher else diff < 0
    return f"{diff:+.3g} ({'better' if better else 'worse' if diff else 'same'})"


def threshold_table(run: RunData) -> tuple[list[str], list[list[str]], str] | None:
    """Instance segmentation: one row per IoU threshold (precision, recall, F1, AP, PQ; baseline AP)."""
    metrics = run.metrics or {}
    values = metrics.get("metrics") or {}
    by = metrics.get("by_threshold") if isinstance(metrics.get("by_threshold"), dict) else {}
    thresholds = sorted({float(t) for t in by} | {float(k.split("@")[1]) for k in values
                                                  if k.lower().startswith("ap@") and _is_float(k.split("@")[1])})
    if not thresholds:
        return None
    base = baseline_of(run)
    rows = []
    for t in thresholds:
        row_values = next((v for k, v in by.items() if _is_float(k) and float(k) == t), {}) or {}
        cells = [f"{t:g}"]
        for _, key in THRESHOLD_COLUMNS:
            value = lookup(row_values, (key,))
            cells.append(fmt(value if value is not None else lookup(values, (f"{key}@{t:g}", f"{key}@{t}"))))
        if base:
            cells.append(fmt(lookup(base["metrics"], (f"ap@{t:g}", f"ap@{t}"))))
        rows.append(cells)
    header = ["IoU threshold", *[c for c, _ in THRESHOLD_COLUMNS]] + (["AP, classical baseline"] if base else [])
    return header, rows, ("Scores at stricter matching: a predicted object counts as found only when its IoU with "
                          "a true object reaches the threshold (0.9 asks for near-perfect outlines).")


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


PER_CLASS_COLUMNS = {
    "classification": (("precision", "precision"), ("recall", "recall"), ("F1", "f1"), ("ROC AUC", "roc_auc"),
                       ("test images", "support")),
    "segmentation": (("IoU", "iou"), ("Dice", "dice"), ("pixels", "pixels")),
}


def per_class_table(run: RunData) -> tuple[list[str], list[list[str]], str] | None:
    """Classification / segmentation: one row per class."""
    per_class = {c: v for c, v in ((run.metrics or {}).get("per_class") or {}).items() if isinstance(v, dict)}
    if not per_class:
        return None
    columns = PER_CLASS_COLUMNS.get(run.task)
    if columns is None or not any(lookup(v, (key,)) is not None for v in per_class.values() for _, key in columns):
        keys = sorted({k for v in per_class.values() for k in v})
        columns = tuple((k, k) for k in keys)
    columns = tuple(c for c in columns if any(lookup(v, (c[1],)) is not None for v in per_class.values()))
    rows = []
    for name, v in per_class.items():
        cells = [name]
        for _, key in columns:
            value = lookup(v, (key,))
            cells.append(fmt(int(value)) if key in ("support", "pixels") and value is not None else fmt(value))
        rows.append(cells)
    return ["class", *[c for c, _ in columns]], rows, "Per-class metrics."


#: Averages left out of the "other metrics" table (redundant with the tables above).
SHOWN_ELSEWHERE = ("mean_dice_foreground", "f1_mean")


def other_metrics(run: RunData) -> list[list[str]]:
    """Flat metrics not shown in the headline or per-threshold tables (``name``, value)."""
    shown = {k.lower() for _, keys, _, _ in HEADLINE_METRICS.get(run.task, []) for k in keys}
    rows = []
    for key, value in ((run.metrics or {}).get("metrics") or {}).items():
        low = key.lower()
        if low in shown or "@" in low or low.startswith(("input_", "gain_")) or low in SHOWN_ELSEWHERE:
            continue
        rows.append([key, fmt(value)])
    return rows


def add_result_tables(section: Section, run: RunData) -> None:
    """Headline table, then the per-threshold or per-class table, then any remaining metrics."""
    for table in (headline_table(run), threshold_table(run) if run.task == "instance_segmentation" else
                  per_class_table(run)):
        if table:
            header, rows, caption = table
            section.add("table", header=header, rows=rows, caption=caption)
    rest = other_metrics(run)
    if rest:
        section.add("table", header=["other metric", "value"], rows=rest, caption="Further metrics recorded.")


def baseline_sentence(run: RunData) -> str | None:
    """One line for the summary: does the model beat the classical method on the headline metric?"""
    base = baseline_of(run)
    headline = (run.metrics or {}).get("headline") or {}
    if not base or not isinstance(headline.get("value"), int | float):
        return None
    keys = tuple(str(k) for k in (headline.get("key"), headline.get("name")) if k)
    theirs = lookup(base["metrics"], keys)
    if theirs is None:
        return None
    ours, name = float(headline["value"]), str(headline.get("name", keys[0]))
    method = base.get("name", "the classical method")
    numbers = f"{name} {fmt(ours)} vs {fmt(theirs)}"
    if abs(ours - theirs) < 0.02:
        return (f"Against a classical method ({method}): about the same ({numbers}); on these images the trained "
                f"model does not add much yet.")
    if ours > theirs:
        return f"Against a classical method ({method}): the model is better ({numbers})."
    return (f"Against a classical method ({method}): the model is worse ({numbers}); the classical method would "
            f"do better on these images for now.")

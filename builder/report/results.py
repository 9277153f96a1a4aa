"""The results tables: headline metrics with a plain-language meaning, then a compact detail table per task.

Instance segmentation: headline metrics (model vs the classical baseline) and one row per IoU threshold;
classification and segmentation: headline metrics and a per-class table; image-to-image: model vs raw input
with the gain.
"""

from __future__ import annotations

import math
from typing import Any

from builder.report.content import Section, fmt, task_of
from builder.report.run_data import RunData

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
    spec = task_of(run).report_metrics
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
    if metrics.get("data_range"):
        caption += (f" Scored on the images' own intensity scale (no fitting); PSNR and SSIM use a data range of "
                    f"{metrics['data_range']}.")
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
    by_threshold = metrics.get("by_threshold")
    by: dict[str, Any] = by_threshold if isinstance(by_threshold, dict) else {}
    thresholds = sorted({float(t) for t in by} | {float(k.split("@")[1]) for k in values
                                                  if k.lower().startswith("ap@") and _is_float(k.split("@")[1])})
    if not thresholds:
        return None
    base = baseline_of(run)
    rows = []
    for t in thresholds:
        row_values: dict[str, Any] = next((v for k, v in by.items() if _is_float(k) and float(k) == t), {}) or {}
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


def per_class_table(run: RunData) -> tuple[list[str], list[list[str]], str] | None:
    """Classification / segmentation: one row per class."""
    per_class = {c: v for c, v in ((run.metrics or {}).get("per_class") or {}).items() if isinstance(v, dict)}
    if not per_class:
        return None
    columns = task_of(run).per_class_columns
    if not columns or not any(lookup(v, (key,)) is not None for v in per_class.values() for _, key in columns):
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
    shown = {k.lower() for _, keys, _, _ in task_of(run).report_metrics for k in keys}
    rows = []
    for key, value in ((run.metrics or {}).get("metrics") or {}).items():
        low = key.lower()
        if low in shown or "@" in low or low.startswith(("input_", "gain_")) or low in SHOWN_ELSEWHERE:
            continue
        rows.append([key, fmt(value)])
    return rows


def add_result_tables(section: Section, run: RunData) -> None:
    """Headline table, then the per-threshold or per-class table, then any remaining metrics."""
    for table in (headline_table(run), threshold_table(run) if task_of(run).shows_threshold_table else
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

"""``compare_runs``: several runs side by side (metrics table, curves overlaid, recipe differences) in one HTML."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from builder.errors import CellwrightError
from builder.report import figures
from builder.report.content import Section, fmt
from builder.report.run_data import RunData, load_run


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> ``{"train.optimizer.name": "adam", ...}``; lists are kept as values."""
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def _labels(runs: Sequence[RunData]) -> list[str]:
    names = [r.name for r in runs]
    return [f"{n} ({i + 1})" if names.count(n) > 1 else n for i, n in enumerate(names)]


def metrics_table(runs: Sequence[RunData], labels: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: the headline first (best run marked ★), then every metric any run has."""
    header = ["metric", *labels]
    rows: list[list[str]] = []
    headlines = [(r.metrics or {}).get("headline") or {} for r in runs]
    names = {h.get("name") for h in headlines if h.get("name")}
    if names:
        values = [h.get("value") if isinstance(h.get("value"), int | float) else None for h in headlines]
        higher = all(h.get("higher_is_better", True) for h in headlines if h)
        present = [v for v in values if v is not None]
        best = (max(present) if higher else min(present)) if present and len(names) == 1 else None
        label = "headline: " + " / ".join(sorted(str(n) for n in names))
        rows.append([label, *[fmt(v) + (" ★" if v is not None and v == best and len(present) > 1 else "")
                              for v in values]])
    keys: list[str] = []
    for run in runs:
        for key in (run.metrics or {}).get("metrics") or {}:
            if key not in keys:
                keys.append(key)
    for key in keys:
        rows.append([key, *[fmt(((r.metrics or {}).get("metrics") or {}).get(key)) for r in runs]])
    rows.append(["test images", *[fmt((r.metrics or {}).get("n_images")) for r in runs]])
    rows.append(["epochs run", *[fmt(len(r.history)) if r.history else "-" for r in runs]])
    for key in ("loss", "val_loss"):
        rows.append([f"best {key}", *[fmt(min(s)) if (s := [v for v in r.series(key) if v == v]) else "-"
                                       for r in runs]])
    return header, rows


def recipe_differences(runs: Sequence[RunData], labels: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Recipe keys whose values differ between runs (``name`` and ``description`` included)."""
    flat = [flatten(r.recipe or {}) for r in runs]
    keys = sorted({k for f in flat for k in f})
    rows = []
    for key in keys:
        values = [f.get(key, "(not set)") for f in flat]
        if any(v != values[0] for v in values[1:]):
            rows.append([key, *[fmt(v) if not isinstance(v, list) else ", ".join(map(str, v)) for v in values]])
    return ["recipe key", *labels], rows


def compare_sections(runs: Sequence[RunData]) -> list[Section]:
    """Metrics, curves and recipe differences as report sections."""
    labels = _labels(runs)
    metrics = Section("metrics", "Metrics")
    header, rows = metrics_table(runs, labels)
    metrics.add("table", header=header, rows=rows, caption="Test metrics of each run (★ = best headline).")
    for run in runs:
        if run.notes:
            metrics.add("note", text=f"{run.name}: " + " ".join(run.notes.values()))
    curves = Section("curves", "Training curves")
    keys = ["loss"] + [k for k in figures.metric_pairs(runs[0].history) if k != "loss"][:1] if runs[0].history \
        else ["loss"]
    png = figures.overlaid_curves([(label, r.history) for label, r in zip(labels, runs, strict=True)], keys)
    if png:
        curves.add("figure", png=png, caption="Validation (solid) and training (dashed) curves of every run.")
    else:
        curves.add("note", text="No run has a training history.")
    diff = Section("recipe", "Recipe differences")
    header, rows = recipe_differences(runs, labels)
    if rows:
        diff.add("table", header=header, rows=rows, caption="Only the recipe keys that differ are listed.")
    else:
        diff.add("text", text="The recipes are identical.")
    return [metrics, curves, diff]


def compare_runs(run_dirs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """Write an HTML page comparing the runs in ``run_dirs`` to ``out`` and return its path.

    Raises
    ------
    CellwrightError
        When fewer than two runs are given or one is not a folder.
    """
    if len(run_dirs) < 2:
        raise CellwrightError("compare", f"Expected at least two run folders. Received: {len(run_dirs)}.",
                              "Pass two or more folders under runs/, e.g. cellwright compare runs/a runs/b.")
    runs = [load_run(Path(d)) for d in run_dirs]
    from builder.io_utils import atomic_write_text
    from builder.report.build import _version
    from builder.report.html import render_html

    html = render_html("report.html.j2", title=f"Comparison of {len(runs)} runs",
                       subtitle=" · ".join(_labels(runs)), sections=compare_sections(runs), version=_version(),
                       generated=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
                       run_dir=", ".join(r.name for r in runs))
    return atomic_write_text(Path(out), html)

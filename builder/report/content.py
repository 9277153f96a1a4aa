"""What the report says: a list of sections made of simple blocks, rendered to HTML and PDF alike.

Also the plain-language helpers the summary (:mod:`builder.report.summary`) and the other sections share:
headline interpretation and warnings (data check findings, too few images, over-fitting, class imbalance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from builder.errors import CellwrightError
from builder.report.run_data import RunData
from builder.tasks import Task, get_task


def task_of(run: RunData) -> Task:
    """The run's task (a plain :class:`Task` with neutral wording when the run names none Cellwright knows)."""
    try:
        return get_task(run.task)
    except CellwrightError:
        return Task()


@dataclass
class Block:
    """One piece of a section: ``kind`` is text, bullets, warnings, table, figure, code, note or subheading."""

    kind: str
    text: str = ""
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    png: bytes | None = None
    caption: str = ""
    links: list[str | None] = field(default_factory=list)  # references: one citation link per item


@dataclass
class Section:
    """A titled part of the report (``id`` is its HTML anchor)."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, kind: str, **kwargs: Any) -> Block:
        block = Block(kind, **kwargs)
        self.blocks.append(block)
        return block


SECTION_TITLES = ("Summary", "Data", "Model", "Training", "Results", "Reproducibility", "Methods")


def fmt(value: Any, digits: int = 3) -> str:
    """Numbers with ``digits`` significant digits; everything else as text."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


# -- headline ---------------------------------------------------------------------------------------------
def interpret_headline(name: str, value: float, higher_is_better: bool = True,
                       baseline: float | None = None) -> str:
    """One plain-language sentence saying what the headline number means."""
    lower = name.lower()
    if lower.startswith("psnr"):
        if baseline is not None and math.isfinite(baseline):
            gain = value - baseline
            verdict = "a clear improvement" if gain >= 3 else "a small change" if gain >= 0 else "worse than the input"
            return (f"The predictions are {abs(gain):.1f} dB {'closer to' if gain >= 0 else 'further from'} the "
                    f"targets than the raw inputs are ({verdict}); each +3 dB roughly halves the squared error.")
        return "PSNR measures closeness to the targets in decibels: higher is better, +3 dB halves the squared error."
    if not (0.0 <= value <= 1.0) or not higher_is_better:
        return f"{'Higher' if higher_is_better else 'Lower'} is better for {name}."
    if lower.startswith("ap") or "f1" in lower or lower == "pq":
        quality = _grade(value)
        return (f"{quality.capitalize()}: about {round(value * 10)} in 10 objects are found with a good outline "
                f"(predicted and true object overlap by at least half); look at the worst cases below.")
    if "iou" in lower or "dice" in lower:
        return (f"{_grade(value).capitalize()}: predicted and true regions overlap by {value:.0%} "
                f"({'IoU' if 'iou' in lower else 'Dice'}); 100% would be a perfect match.")
    if "accuracy" in lower:
        balanced = " (averaged over classes: rare classes count as much as common ones)" if "balanced" in lower else ""
        return f"{_grade(value).capitalize()}: {value:.0%} of test images get the right class{balanced}."
    return f"{_grade(value).capitalize()} on a 0-1 scale where 1 is perfect."


def _grade(value: float) -> str:
    return ("excellent" if value >= 0.9 else "good" if value >= 0.75 else
            "moderate: check the worst cases" if value >= 0.5 else "poor: the model is not usable yet")


# -- warnings ---------------------------------------------------------------------------------------------
def detect_overfitting(history: list[dict[str, Any]], *, min_epochs: int = 3, rise: float = 0.02) -> str | None:
    """Warn when validation loss has risen for ``min_epochs``+ epochs since its minimum while training loss fell."""
    try:
        train = np.array([float(r.get("loss", np.nan)) for r in history])
        val = np.array([float(r.get("val_loss", np.nan)) for r in history])
    except (TypeError, ValueError):
        return None
    if len(val) < min_epochs + 2 or not np.isfinite(val).any() or not np.isfinite(train).all():
        return None
    best = int(np.nanargmin(val))
    after = len(val) - 1 - best
    if after < min_epochs or not train[-1] < train[best] or not val[-1] > val[best] * (1 + rise):
        return None
    return (f"Over-fitting: the validation loss has risen for {after} epochs since epoch {best + 1} while the "
            f"training loss kept falling, so the model is starting to memorise its training images. Keep the best "
            f"checkpoint (epoch {best + 1}), and consider more data, more augmentation or early stopping.")


def class_balance_warning(run: RunData) -> str | None:
    """Warn about rare classes: image counts (classification) or pixel fractions (segmentation)."""
    names = run.class_names()
    task = task_of(run)
    if task.uses_labels:
        counts = _classification_counts(run)
        if counts and min(counts.values()) * 4 < max(counts.values()):
            rare = min(counts, key=lambda name: counts[name])
            return (f"Class imbalance: '{rare}' has {counts[rare]} test images against {max(counts.values())} for "
                    f"the largest class; look at its per-class recall, not only the overall accuracy.")
    elif task.masks_are_classes and run.evaluation:
        truths = [np.asarray(s.arrays["truth"]) for s in run.evaluation if "truth" in s.arrays]
        if not truths:
            return None
        values = np.concatenate([t.ravel() for t in truths]).astype(np.int64)
        fractions = np.bincount(values[values >= 0]) / max(values.size, 1)
        rare_pixels = [(i, f) for i, f in enumerate(fractions) if i > 0 and f < 0.02]
        if rare_pixels:
            i, f = rare_pixels[0]
            label = names[i] if i < len(names) else f"class {i}"
            return (f"Class imbalance: '{label}' covers only {f:.1%} of the test pixels; its IoU/Dice matter more "
                    f"than the pixel accuracy (class weights or a Dice loss help).")
    return None


def _classification_counts(run: RunData) -> dict[str, int]:
    names = run.class_names()
    per_class = (run.metrics or {}).get("per_class") or {}
    counts = {c: int(v["support"]) for c, v in per_class.items() if isinstance(v, dict) and "support" in v}
    if counts:
        return counts
    labels = [int(np.asarray(s.arrays["truth"]).ravel()[0]) for s in run.evaluation if "truth" in s.arrays]
    out: dict[str, int] = {}
    for label in labels:
        key = names[label] if 0 <= label < len(names) else str(label)
        out[key] = out.get(key, 0) + 1
    return out


def resolved_loss(run: RunData) -> str:
    """The loss actually used: ``train.loss``, with ``auto`` replaced by the task's default for the run's variant
    (the same table training reads, ``Task.losses``)."""
    loss = str(run.get("train.loss", "auto"))
    if loss != "auto":
        return loss
    task = task_of(run)
    if not task.losses:
        return "auto"
    variant = task.variant_for(instance_target=str(run.get("train.instance_target", "three_class")),
                               self_supervised=bool(run.get("train.self_supervised", False)),
                               mask_kind=run.get("data.mask_kind"))
    return task.default_loss(variant)


def split_counts(run: RunData) -> dict[str, int]:
    """Images per split from split.json (``train``, ``validation``, ``test``)."""
    split = run.split or {}
    return {k: len(v) for k in ("train", "validation", "test") if isinstance(v := split.get(k), list)}


def warnings(run: RunData) -> list[str]:
    """Every warning for the summary, most important first."""
    out = []
    for problem in run.data_check or []:
        if isinstance(problem, dict) and problem.get("severity", "warning") in ("warning", "error"):
            fix = f" Fix: {problem['fix']}" if problem.get("fix") else ""
            out.append(f"Data check: {problem.get('where', '')}: {problem.get('what', '')}{fix}")
    counts = split_counts(run)
    minimum = task_of(run).min_train_images
    if counts.get("train") is not None and counts["train"] < minimum:
        out.append(f"Few training images: {counts['train']} (at least {minimum} are usually needed for a model "
                   f"that generalises); treat the scores as optimistic and add images if you can.")
    n_test = (run.metrics or {}).get("n_images", counts.get("test"))
    if isinstance(n_test, int) and n_test < 10:
        out.append(f"Only {n_test} test images: the test score is uncertain (a few images more or less could "
                   f"change it noticeably).")
    for check in (detect_overfitting(run.history), class_balance_warning(run)):
        if check:
            out.append(check)
    return out

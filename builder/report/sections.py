"""The report's middle sections: data, model, training, results and reproducibility."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from builder.report import figures
from builder.report.content import Section, fmt, resolved_loss, split_counts, task_of
from builder.report.facts import (
    data_folder,
    duration,
    epoch_seconds,
    pixel_size,
    postprocess_sentence,
    total_training_seconds,
)
from builder.report.results import add_result_tables
from builder.report.run_data import RunData
from builder.run_folder import files as run_files


def data_section(run: RunData, *, examples: int = 4, augment_samples: bool = False) -> Section:
    """Counts per split and class, example images with their ground truth, pixel size, normalisation, augmentation."""
    section = Section("data", "Data")
    counts = split_counts(run)
    if counts:
        section.add("table", header=["split", "images"], rows=[[k, fmt(v)] for k, v in counts.items()],
                    caption="Images per split.")
    else:
        section.add("note", text=run.notes.get(run_files.SPLIT.name, "The split was not recorded."))
    per_class = _class_counts(run)
    if per_class:
        section.add("table", header=["class", "test images"], rows=[[k, fmt(v)] for k, v in per_class.items()],
                    caption="Test images per class.")
    pixel, source = pixel_size(run)
    folder, layout = data_folder(run)
    demo = run.get("data.demo") if run.get("data.layout") == "demo" else None
    norm = run.get("preprocess.normalize", {}) or {}
    method = norm.get("method", "not recorded")
    detail = f" ({norm.get('low')}-{norm.get('high')} percentiles)" if method == "percentile" else ""
    section.add("bullets", items=[
        f"Data folder: {folder} (layout: {layout}" + (f"; built-in demo data '{demo}'" if demo else "") + ").",
        "Pixel size: " + (f"{fmt(pixel)} µm" + (f" (read from the {source})" if source != "recipe" else "")
                           if pixel else "not given in the recipe or the image files") + ".",
        f"Normalisation: {method}{detail}, per {norm.get('per', 'image')}.",
        f"Augmentation: {_augment_text(run.get('augment', {}) or {})}.",
    ])
    shown = run.evaluation[:examples]
    task = task_of(run)
    png = figures.data_examples(shown, task, run.class_names()) if shown else None
    if png:
        section.add("figure", png=png, caption=task.examples_caption)
    if augment_samples and shown and run.recipe:
        try:
            png = figures.augmented_examples(run.recipe, shown[0], task)
            section.add("figure", png=png, caption="The first example as the training saw it: random augmented "
                        "versions drawn with the recipe's augment settings.")
        except Exception as error:  # the preview is a bonus; never fail the report for it
            section.add("note", text=f"Augmented samples could not be drawn ({error.__class__.__name__}).")
    return section


def _class_counts(run: RunData) -> dict[str, int]:
    if not task_of(run).uses_labels:
        return {}
    from builder.report.content import _classification_counts

    return _classification_counts(run)


def _augment_text(augment: dict[str, Any]) -> str:
    if not augment or augment.get("enabled") is False:
        return "none"
    parts = []
    for key, label in (("flip", "flips"), ("rotate90", "90° rotations")):
        if augment.get(key):
            parts.append(label)
    for key, label in (("rotate", "rotation ±{}°"), ("scale", "scaling ±{}"), ("elastic", "elastic {}"),
                       ("brightness", "brightness ±{}"), ("contrast", "contrast ±{}"), ("gamma", "gamma ±{}"),
                       ("gaussian_noise", "Gaussian noise σ {}"), ("blur", "blur up to σ {} px")):
        value = augment.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            parts.append(label.format(fmt(float(value))))
    return ", ".join(parts) or "none"


def model_section(run: RunData) -> Section:
    """Diagram, parameter counts, backbone and weights, frozen layers, the first nodes."""
    section = Section("model", "Model")
    params = run.get("model.params", {}) or {}
    template = run.get("model.template") or ("custom graph" if run.get("model.graph") else "not recorded")
    items = [f"Architecture: {template}" + (f" ({', '.join(f'{k}={v}' for k, v in params.items() if k != 'backbone')})"
                                           if params else "") + "."]
    summary = run.model_summary
    if summary:
        total, trainable = summary.get("total_params"), summary.get("trainable_params")
        items.append(f"Parameters: {fmt(total)} in total, {fmt(trainable)} trainable.")
        backbone = summary.get("backbone") or params.get("backbone")
        from builder.report.unlabelled import encoder_phrase

        shared = encoder_phrase(run)
        if isinstance(backbone, dict) and backbone.get("name"):
            items.append(f"Pretrained encoder (backbone): {backbone['name']} with {backbone.get('weights', '?')} "
                         f"weights; {fmt(summary.get('frozen_layers', 0))} layers frozen.")
        elif shared:
            items.append(f"Pretrained encoder: a network {shared}; "
                         f"{fmt(summary.get('frozen_layers', 0))} layers frozen.")
        else:
            items.append("No pretrained encoder: all weights were learned from these images.")
        from builder.report.unlabelled import init_from_name

        if init_from_name(run):
            items.append(f"Starting weights: fine-tuned from {init_from_name(run)}, not a random start.")
    else:
        items.append(run.notes.get(run_files.MODEL_SUMMARY.name, "No model summary was written."))
    section.add("bullets", items=items)
    if run.model_png:
        section.add("figure", png=run.model_png, caption="The model graph.")
    nodes = (summary or {}).get("nodes") or []
    if nodes:
        rows = [[str(n.get("id", "")), str(n.get("block", "")), _shape(n.get("output_shape")), fmt(n.get("params"))]
                for n in nodes[:40]]
        caption = "Model nodes" + (f" (first 40 of {len(nodes)})" if len(nodes) > 40 else "") + "."
        section.add("table", header=["node", "block", "output shape", "parameters"], rows=rows, caption=caption)
    return section


def _shape(shape: Any) -> str:
    if isinstance(shape, list | tuple):
        return "(" + ", ".join("B" if s is None else str(s) for s in shape) + ")"
    return "-" if shape is None else str(shape)


def kept_checkpoint_phrase(run: RunData) -> str | None:
    """``kept the checkpoint of epoch 20 (highest validation AP@0.5, 0.809)``: the epoch training chose by its
    monitor (``state.json``), else the epoch with the lowest validation loss; None when neither is known."""
    state = run.state or {}
    monitor, epoch = state.get("monitor"), state.get("best_epoch")
    if monitor and epoch:
        label, key = task_of(run).headline
        name = f"validation {label}" if monitor == f"val_{key}" else (
            "validation loss" if monitor == "val_loss" else str(monitor).replace("_", " "))
        best = "lowest" if monitor.endswith("loss") or state.get("mode") == "min" else "highest"
        value = state.get("best")
        shown = f", {value:.3g}" if isinstance(value, int | float) else ""
        return f"kept the checkpoint of epoch {int(epoch)} ({best} {name}{shown})"
    val = run.series("val_loss")
    if np.isfinite(val).any():
        return f"lowest validation loss at epoch {int(np.nanargmin(val)) + 1}"
    return None


def training_section(run: RunData) -> Section:
    """Curves (train vs validation), learning rate, time per epoch, device and total time."""
    section = Section("training", "Training")
    if not run.history:
        section.add("note", text=run.notes.get(run_files.HISTORY_JSON.name, "No training history was recorded."))
        return section
    seconds = epoch_seconds(run)
    total = total_training_seconds(run)
    kept = kept_checkpoint_phrase(run)
    env = run.environment or {}
    gpus = env.get("gpus") or []
    device = ", ".join(g.get("model") or g.get("name", "GPU") for g in gpus if isinstance(g, dict)) or \
        f"{env.get('device', 'CPU')} ({env.get('cpu', 'unknown CPU')})"
    planned = run.get("train.epochs")
    section.add("bullets", items=[
        f"Epochs run: {len(run.history)}" + (f" of {planned} planned" if planned else "") +
        (f"; {kept}." if kept else "."),
        f"Total training time: {duration(total)}" + (
            f" ({np.mean(seconds):.1f} s per epoch on average, {min(seconds):.1f}-{max(seconds):.1f} s)."
            if seconds else "."),
        f"Device: {device}.",
        f"Batch size {run.get('train.batch_size', '?')}, optimiser {run.get('train.optimizer.name', '?')} with "
        f"learning rate {fmt(run.get('train.optimizer.learning_rate'))}, schedule "
        f"{run.get('train.schedule.name', '?')}, loss {resolved_loss(run)}.",
    ])
    for png, caption in ((figures.curves(run.history), "Loss and metrics per epoch: training (blue) and "
                          "validation (red). Validation rising while training falls means over-fitting."),
                         (figures.lr_and_time(run.history), "Learning rate and time per epoch.")):
        if png:
            section.add("figure", png=png, caption=caption)
    return section


def results_section(run: RunData, *, worst_cases: int = 4, examples: int = 4) -> Section:
    """Every metric, per class, per condition, confusion matrix, overlays and the worst cases."""
    section = Section("results", "Results")
    metrics = run.metrics
    if not metrics:
        section.add("note", text=run.notes.get(run_files.METRICS.name, "The run has no evaluation yet."))
        return section
    add_result_tables(section, run)
    error = (metrics.get("baseline") or {}).get("error") if isinstance(metrics.get("baseline"), dict) else None
    if error:
        section.add("note", text=f"The classical baseline could not be run ({error}).")
    groups = _per_group(metrics.get("per_image") or [])
    if groups:
        section.add("table", header=["condition", "images", "mean score"], rows=groups,
                    caption="Per-condition scores (mean of the per-image score within each group).")
    task = task_of(run)
    for heading, png, caption in task.report_figures(run):
        if png:
            section.add("subheading", text=heading)
            section.add("figure", png=png, caption=caption)
    sentence = postprocess_sentence(run) if task.has_tuned_postprocess else None
    if sentence:
        how = ("non-maximum suppression of the predicted star-convex polygons"
               if run.get("train.instance_target") == "star_convex" else "seeded watershed on the predicted "
               "probabilities")
        section.add("text", text=f"Post-processing ({how}): " + sentence[0].lower() + sentence[1:])
    if task.shows_confusion_matrix and metrics.get("confusion_matrix"):
        png = figures.confusion(metrics["confusion_matrix"], run.class_names())
        if png:
            section.add("figure", png=png, caption="Confusion matrix: rows are the true classes, columns the "
                        "predictions; the diagonal holds the correct answers.")
    if not run.evaluation:
        section.add("note", text=run.notes.get(run_files.EVALUATION.name, "No test predictions were saved."))
        return section
    legend = task.overlay_caption
    ordered = sorted(run.evaluation, key=lambda s: (not np.isfinite(s.score), s.score))
    names = run.class_names()
    if worst_cases:
        section.add("subheading", text="Worst cases")
        png = figures.sample_rows(ordered[:worst_cases], task, names=names)
        if png:
            section.add("figure", png=png, caption="The test images where the model does worst (lowest score "
                        "first): look here to see what it gets wrong. " + legend)
    shown = {id(s) for s in ordered[:worst_cases]}
    best_first = [s for s in ordered[::-1] if id(s) not in shown][:examples]
    if examples and best_first:
        section.add("subheading", text="Before / after" if task.image_target else "Typical predictions")
        png = figures.sample_rows(best_first, task, names=names)
        if png:
            section.add("figure", png=png, caption="Test images from the best-scoring down. " + legend)
    return section


def _per_group(per_image: list[dict[str, Any]]) -> list[list[str]]:
    scores: dict[str, list[float]] = {}
    for row in per_image:
        if isinstance(row, dict) and row.get("group") is not None and isinstance(row.get("score"), int | float):
            scores.setdefault(str(row["group"]), []).append(float(row["score"]))
    if len(scores) < 2:
        return []
    return [[g, str(len(v)), fmt(float(np.mean(v)))] for g, v in sorted(scores.items())]


def reproducibility_section(run: RunData) -> Section:
    """Seeds, data checksums (or a manifest hash), software versions and the full resolved recipe."""
    section = Section("reproducibility", "Reproducibility")
    seeds = [f"training seed {run.get('train.seed', '?')}", f"split seed {run.get('data.split.seed', '?')}"]
    items = ["Random seeds: " + ", ".join(seeds) + "."]
    files = (run.split or {}).get("files") or {}
    if files:
        digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        items.append(f"Data manifest: {len(files)} files with SHA-256 checksums (split.json); manifest hash "
                     f"{digest[:16]}.")
    elif run.split:
        items.append("Data file checksums were not recorded; split.json lists the image names per split.")
    section.add("bullets", items=items)
    env = run.environment or {}
    if env:
        keys = ("cellwright", "python", "tensorflow", "keras", "numpy", "platform", "device", "cpu", "cpu_count")
        rows = [[k, fmt(env[k])] for k in keys if k in env]
        section.add("table", header=["software / hardware", "version"], rows=rows, caption="Environment.")
    else:
        section.add("note", text=run.notes.get(run_files.ENVIRONMENT.name, "The environment was not recorded."))
    if run.recipe_text:
        section.add("subheading", text="Resolved recipe (every default filled in)")
        section.add("code", text=run.recipe_text.rstrip())
    else:
        section.add("note", text=run.notes.get(run_files.RECIPE.name, "The recipe was not saved."))
    return section

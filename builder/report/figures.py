"""Report figures as PNG bytes, drawn with matplotlib's Agg renderer (imported lazily, no pyplot state).

Every function returns ``bytes`` (a PNG) or ``None`` when there is nothing to draw.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Colours used in overlays (also named in the report's legends).
GREEN, RED, BLUE, YELLOW = (0.1, 0.8, 0.2), (0.95, 0.15, 0.1), (0.15, 0.45, 1.0), (1.0, 0.85, 0.0)
CYAN = (0.0, 0.85, 0.95)
_SKIP_KEYS = {"epoch", "learning_rate", "lr", "epoch_seconds", "time", "seconds", "time_s", "epoch_time_s"}
#: Side (pixels) that overlay panels are drawn at, so outlines stay 1-2 px wide at report size.
PANEL_PX = 270


def new_figure(width: float, height: float) -> Any:
    """A matplotlib Figure not attached to pyplot (safe in threads and next to a Qt GUI)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def to_png(fig: Any, dpi: int = 100) -> bytes:
    """Render ``fig`` with Agg and return the PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def display(image: Any) -> np.ndarray:
    """(Y, X[, C]) array -> (Y, X) grey or (Y, X, 3) RGB in 0..1 (1st-99.8th percentile stretch)."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3:
        a = a[..., :3] if a.shape[-1] >= 3 else a[..., 0]
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return np.zeros(a.shape, np.float32)
    low, high = np.percentile(finite, [1.0, 99.8])
    scale = high - low if high > low else 1.0
    return np.clip((np.nan_to_num(a) - low) / scale, 0.0, 1.0)


def _rgb(image: Any) -> np.ndarray:
    d = display(image)
    return d if d.ndim == 3 else np.repeat(d[..., None], 3, axis=-1)


def _labels2d(a: Any) -> np.ndarray:
    a = np.asarray(a)
    return a[..., 0] if a.ndim == 3 else a


def _paint(rgb: np.ndarray, where: np.ndarray, colour: Sequence[float], alpha: float = 0.55) -> None:
    rgb[where] = (1 - alpha) * rgb[where] + alpha * np.asarray(colour)


# -- curves ------------------------------------------------------------------------------------------------
def metric_pairs(history: list[dict[str, Any]]) -> list[str]:
    """Quantities with a training column (``loss``, ``dice``...) in order: loss first, then metrics."""
    keys = [k for k in (history[0] if history else {}) if k not in _SKIP_KEYS and not k.startswith("val_")]
    keys = [k for k in keys if _column(history, k) is not None]
    return sorted(keys, key=lambda k: (k != "loss", k))


def _column(history: list[dict[str, Any]], key: str) -> np.ndarray | None:
    try:
        values = np.array([float(row.get(key, np.nan)) for row in history], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return values if np.isfinite(values).any() else None


def _epochs(history: list[dict[str, Any]]) -> np.ndarray:
    epochs = _column(history, "epoch")
    return epochs if epochs is not None else np.arange(1, len(history) + 1, dtype=float)


def curves(history: list[dict[str, Any]], *, max_panels: int = 4) -> bytes | None:
    """Loss and metric curves, training vs validation, one panel per quantity."""
    keys = metric_pairs(history)[:max_panels]
    if not keys:
        return None
    epochs = _epochs(history)
    cols = min(len(keys), 2)
    rows = math.ceil(len(keys) / cols)
    fig = new_figure(4.2 * cols, 2.8 * rows)
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.plot(epochs, _column(history, key), "-o", ms=3, color="#1f77b4", label="training")
        val = _column(history, f"val_{key}")
        if val is not None:
            ax.plot(epochs, val, "-o", ms=3, color="#d62728", label="validation")
        ax.set_title(key.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return to_png(fig)


def lr_and_time(history: list[dict[str, Any]]) -> bytes | None:
    """Learning rate (log scale) and seconds per epoch."""
    lr = _column(history, "learning_rate")
    if lr is None:
        lr = _column(history, "lr")
    seconds = next((c for k in ("epoch_seconds", "time_s", "epoch_time_s", "seconds")
                    if (c := _column(history, k)) is not None), None)
    panels = [(p, t) for p, t in ((lr, "learning rate"), (seconds, "seconds per epoch")) if p is not None]
    if not panels:
        return None
    epochs = _epochs(history)
    fig = new_figure(4.2 * len(panels), 2.6)
    for i, (values, title) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        if title == "learning rate":
            ax.plot(epochs, values, "-", color="#2ca02c")
            if np.nanmin(values) > 0:
                ax.set_yscale("log")
        else:
            ax.bar(epochs, values, color="#9467bd")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    return to_png(fig)


def overlaid_curves(runs: Sequence[tuple[str, list[dict[str, Any]]]], keys: Sequence[str] = ("loss",)) -> bytes | None:
    """Curves of several runs in one panel per key (validation solid, training dashed)."""
    keys = [k for k in keys if any(_column(h, k) is not None for _, h in runs if h)]
    if not keys:
        return None
    fig = new_figure(4.6 * len(keys), 3.0)
    colours = [f"C{i % 10}" for i in range(len(runs))]
    for i, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        for (name, history), colour in zip(runs, colours, strict=True):
            if not history:
                continue
            epochs = _epochs(history)
            train = _column(history, key)
            val = _column(history, f"val_{key}")
            if val is not None:
                ax.plot(epochs, val, "-", color=colour, label=f"{name} (validation)")
            if train is not None:
                ax.plot(epochs, train, "--", color=colour, alpha=0.6, label=f"{name} (training)")
        ax.set_title(key.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return to_png(fig)


# -- classification -----------------------------------------------------------------------------------------
def confusion(matrix: Sequence[Sequence[float]], class_names: Sequence[str]) -> bytes | None:
    """Confusion matrix: colour = fraction of the true class, text = count."""
    cm = np.asarray(matrix, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.size == 0:
        return None
    names = list(class_names) if len(class_names) == cm.shape[0] else [str(i) for i in range(cm.shape[0])]
    fraction = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    side = 1.6 + 0.55 * len(names)
    fig = new_figure(side + 1.0, side)
    ax = fig.add_subplot(1, 1, 1)
    shown = ax.imshow(fraction, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(cm):
        ax.text(j, i, f"{int(count)}", ha="center", va="center", fontsize=9,
                color="white" if fraction[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(shown, ax=ax, fraction=0.046, label="fraction of true class")
    return to_png(fig)


# -- overlays -----------------------------------------------------------------------------------------------
def mask_overlay(image: Any, mask: Any) -> np.ndarray:
    """RGB image with every labelled object (or class) tinted and outlined."""
    from skimage.segmentation import find_boundaries

    rgb = _rgb(image)
    labels = _labels2d(mask).astype(np.int64)
    if labels.max() > 0:
        hues = np.array([(0.9, 0.3, 0.3), (0.3, 0.8, 0.3), (0.3, 0.5, 1.0), (1.0, 0.8, 0.2), (0.8, 0.3, 0.9)])
        for value in np.unique(labels[labels > 0]):
            _paint(rgb, labels == value, hues[int(value) % len(hues)], alpha=0.35)
        rgb[find_boundaries(labels, mode="inner")] = CYAN
    return rgb


def segmentation_overlay(image: Any, truth: Any, prediction: Any) -> np.ndarray:
    """Correct foreground green (TP), predicted but wrong red (FP), missed blue (FN)."""
    rgb = _rgb(image)
    t, p = _labels2d(truth), _labels2d(prediction)
    _paint(rgb, (t > 0) & (p == t), GREEN)
    _paint(rgb, (p > 0) & (p != t), RED)
    _paint(rgb, (t > 0) & (p == 0), BLUE)
    return rgb


def upscale_factor(shape: Sequence[int], target: int = PANEL_PX) -> int:
    """Largest integer zoom keeping the larger side of ``shape`` within ``target`` pixels (at least 1)."""
    return max(1, target // max(int(shape[0]), int(shape[1]), 1))


def _zoom(array: np.ndarray, factor: int) -> np.ndarray:
    return array if factor == 1 else np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)


def _outlines(labels: np.ndarray, width: int) -> np.ndarray:
    """Inner object boundaries ``width`` pixels wide (1 or 2)."""
    from scipy import ndimage as ndi
    from skimage.segmentation import find_boundaries

    edge = find_boundaries(labels, mode="inner")
    return ndi.binary_dilation(edge, iterations=width - 1) & (labels > 0) if width > 1 else edge


def outline_overlay(image: Any, layers: Sequence[tuple[Any, Sequence[float]]], *, target: int = PANEL_PX
                    ) -> np.ndarray:
    """The grey image zoomed to about ``target`` px with each ``(labels, colour)`` layer drawn as outlines only
    (2 px wide, so they survive the scaling to report size), later layers on top."""
    grey = display(image)
    grey = grey.mean(axis=-1) if grey.ndim == 3 else grey
    factor = upscale_factor(grey.shape, target)
    rgb = np.repeat(_zoom(grey, factor)[..., None], 3, axis=-1)
    width = 2 if factor >= 2 or max(grey.shape) > 1.5 * target else 1
    for labels, colour in layers:
        rgb[_outlines(_zoom(_labels2d(labels).astype(np.int64), factor), width)] = colour
    return rgb


def instance_overlay(image: Any, truth: Any, prediction: Any, threshold: float = 0.5) -> np.ndarray:
    """Outlines only on the grey image: matched predictions green, false positives red, missed true objects
    yellow (matched = IoU >= ``threshold``)."""
    from builder.tasks.metrics.instances import iou_matrix, match_pairs, overlap_matrix

    t, p = _labels2d(truth).astype(np.int64), _labels2d(prediction).astype(np.int64)
    overlap, true_ids, pred_ids = overlap_matrix(t, p)
    rows, cols = match_pairs(iou_matrix(overlap), threshold)
    matched_pred = np.isin(p, pred_ids[cols]) & (p > 0)
    false_pred = (p > 0) & ~matched_pred
    missed_true = np.isin(t, np.setdiff1d(true_ids, true_ids[rows])) & (t > 0)
    return outline_overlay(image, [(np.where(missed_true, t, 0), YELLOW), (np.where(false_pred, p, 0), RED),
                                   (np.where(matched_pred, p, 0), GREEN)])


def _columns(style: str, arrays: dict[str, Any]) -> list[tuple[str, np.ndarray, dict[str, Any]]]:
    """The panels of one sample row: (title, array, imshow keywords); ``style`` is the task's ``figure_style``."""
    image = arrays["image"]
    truth, pred = arrays.get("truth"), arrays.get("prediction")
    if style == "image_columns" and truth is not None and pred is not None:
        t, p = np.asarray(truth, np.float32), np.asarray(pred, np.float32)
        error = np.abs(p - t)
        error = error.mean(axis=-1) if error.ndim == 3 else error
        return [("input", display(image), {"cmap": "gray"}), ("prediction", display(p), {"cmap": "gray"}),
                ("target", display(t), {"cmap": "gray"}),
                ("|prediction - target|", error, {"cmap": "magma", "vmin": 0, "vmax": max(float(error.max()), 1e-6)})]
    panels = [("image", display(image), {"cmap": "gray"})]
    if truth is None or pred is None:
        return panels
    if style == "instance_outlines":
        panels = [("image", _zoom(display(image), upscale_factor(np.shape(image))), {"cmap": "gray"}),
                  ("ground truth", outline_overlay(image, [(truth, CYAN)]), {}),
                  ("prediction vs truth", instance_overlay(image, truth, pred), {})]
    else:
        panels += [("ground truth", mask_overlay(image, truth), {}),
                   ("prediction vs truth", segmentation_overlay(image, truth, pred), {})]
    return panels


def sample_rows(samples: Sequence[Any], task: Any, *, names: Sequence[str] = ()) -> bytes | None:
    """One row per sample (image, truth, prediction overlay or error map); ``samples`` are EvalSample-like.

    ``task`` is the run's :class:`~builder.tasks.base.Task`; its ``figure_style`` chooses the panels.
    """
    samples = [s for s in samples if "image" in s.arrays]
    if not samples:
        return None
    if task.figure_style == "thumbnails":
        return thumbnails(samples, names)
    rows = [_columns(task.figure_style, s.arrays) for s in samples]
    ncols = max(len(r) for r in rows)
    side = 3.0 if ncols <= 3 else 2.3  # inches per panel at 100 dpi: about PANEL_PX pixels for 3 panels
    fig = new_figure(side * ncols, side * len(rows) + 0.2)
    for i, (sample, panels) in enumerate(zip(samples, rows, strict=True)):
        for j, (title, array, kwargs) in enumerate(panels):
            ax = fig.add_subplot(len(rows), ncols, i * ncols + j + 1)
            big = max(np.shape(array)[:2]) > PANEL_PX * 1.1  # shrunk on the page: smooth, don't drop lines
            ax.imshow(array, interpolation="antialiased" if big else "nearest", **kwargs)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{sample.name}\nscore {sample.score:.3g}", fontsize=8)
    return to_png(fig)


def thumbnails(samples: Sequence[Any], names: Sequence[str], *, per_row: int = 4) -> bytes | None:
    """Classification: a grid of crops titled with true and predicted class (red when wrong)."""
    if not samples:
        return None

    def label(value: Any) -> str:
        try:
            index = int(np.asarray(value).ravel()[0])
        except (TypeError, ValueError, IndexError):
            return "?"
        return names[index] if 0 <= index < len(names) else str(index)

    cols = min(per_row, len(samples))
    rows = math.ceil(len(samples) / cols)
    fig = new_figure(2.0 * cols, 2.2 * rows)
    for i, sample in enumerate(samples):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(display(sample.arrays["image"]), cmap="gray", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        truth, pred = sample.arrays.get("truth"), sample.arrays.get("prediction")
        title = f"true: {label(truth)}"
        wrong = pred is not None and label(pred) != label(truth)
        if pred is not None:
            title += f"\npredicted: {label(pred)}"
        ax.set_title(title, fontsize=8, color="#c0392b" if wrong else "black")
    return to_png(fig)


def data_examples(samples: Sequence[Any], task: Any, names: Sequence[str] = ()) -> bytes | None:
    """Example images with their ground truth: masks overlaid, targets side by side, or class names."""
    samples = [s for s in samples if "image" in s.arrays]
    if not samples:
        return None
    if task.figure_style == "thumbnails":
        stripped = [type(s)(s.name, {k: v for k, v in s.arrays.items() if k != "prediction"}) for s in samples]
        return thumbnails(stripped, names)
    targets = task.image_target
    fig = new_figure(2.3 * len(samples), 4.6 if targets else 2.5)
    nrows = 2 if targets else 1
    for i, sample in enumerate(samples):
        image, truth = sample.arrays["image"], sample.arrays.get("truth")
        ax = fig.add_subplot(nrows, len(samples), i + 1)
        if targets or truth is None:
            ax.imshow(display(image), cmap="gray")
        else:
            ax.imshow(mask_overlay(image, truth))
        ax.set_title(sample.name, fontsize=8)
        ax.set_axis_off()
        if nrows == 2 and truth is not None:
            ax2 = fig.add_subplot(nrows, len(samples), len(samples) + i + 1)
            ax2.imshow(display(truth), cmap="gray")
            ax2.set_title("target", fontsize=8)
            ax2.set_axis_off()
    return to_png(fig)


def augmented_examples(recipe: dict[str, Any], sample: Any, task: Any, n: int = 4) -> bytes | None:
    """A few augmented versions of one sample, drawn with the recipe's ``augment:`` settings (imports TensorFlow)."""
    from builder.data.augment import augment_numpy
    from builder.recipe.sections.augment import AugmentSection

    cfg = AugmentSection(**(recipe.get("augment") or {}))
    image = np.asarray(sample.arrays["image"], np.float32)
    truth = sample.arrays.get("truth")
    kind = "mask" if task.mask_target and truth is not None else None
    target = np.asarray(truth)[..., None].astype(np.int32) if kind and np.ndim(truth) == 2 else None
    fig = new_figure(2.2 * n, 2.4)
    for i in range(n):
        out, label = augment_numpy(cfg, image, target, seed=int(recipe.get("train", {}).get("seed", 0)), index=i,
                                   target_kind=kind if target is not None else None)
        ax = fig.add_subplot(1, n, i + 1)
        ax.imshow(mask_overlay(out, label) if label is not None else display(out), cmap="gray")
        ax.set_title(f"augmented #{i + 1}", fontsize=8)
        ax.set_axis_off()
    return to_png(fig)

"""The "annotate next" order: unlabelled images ranked by how unsure the current model is about them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from builder.active_learning.uncertainty import tta_outputs, uncertainty
from builder.errors import CellwrightError
from builder.events import EventSink, make_event
from builder.io_utils import atomic_write_text

#: Name of the ranking table :func:`write_suggestions` writes next to the data.
SUGGESTIONS_FILE = "annotate_next.csv"
#: Pixel outputs: the share of most-uncertain pixels an image's score averages over.
PIXEL_TOP_FRACTION = 0.1


def as_probabilities(output: np.ndarray, where: str = "model output") -> np.ndarray:
    """``(..., K)`` probabilities from a network output; a single sigmoid channel becomes (1 - p, p).

    Raises
    ------
    CellwrightError
        The output is not probabilities (e.g. a distance map or a restored image).
    """
    out = np.asarray(output, np.float64)
    if out.shape[-1] == 1:
        out = np.concatenate([1.0 - out, out], axis=-1)
    sums = out.sum(axis=-1)
    if out.min() < -1e-3 or out.max() > 1 + 1e-3 or not np.allclose(sums, 1.0, atol=1e-2):
        raise CellwrightError(where, "Expected class probabilities (softmax or sigmoid) to measure the model's "
                              f"uncertainty. Received: values from {out.min():.3g} to {out.max():.3g}.",
                              "Rank images with a classification or segmentation model (for instance "
                              "segmentation: train.instance_target: three_class).")
    return out


def rank_outputs(names: Sequence[str], views_per_image: Sequence[Sequence[np.ndarray]], *,
                 top_fraction: float = 1.0) -> list[dict[str, Any]]:
    """Rows (name, score, entropy, margin, tta, rank) sorted from most to least uncertain.

    Ties keep the input order, so the ranking is deterministic.
    """
    scores = [uncertainty([as_probabilities(v) for v in views], top_fraction=top_fraction) for views in views_per_image]
    rows: list[dict[str, Any]] = [{"image": name, **score} for name, score in zip(names, scores, strict=True)]
    order = sorted(range(len(rows)), key=lambda i: (-scores[i]["score"], i))
    return [{**rows[i], "rank": r + 1} for r, i in enumerate(order)]


def regions(views: Sequence[np.ndarray], size: int) -> list[tuple[int, int, list[np.ndarray]]]:
    """Cut pixel outputs ``(Y, X, K)`` into ``size`` x ``size`` regions: ``(y, x, views of the region)``.

    The last row and column of regions are shifted inwards so every region is whole (for images at least
    ``size`` wide; smaller images give one region).
    """
    if size < 1:
        raise ValueError(f"Invalid value received for argument `size`. Expected an integer >= 1. Received: "
                         f"size={size}")
    height, width = np.shape(views[0])[:2]

    def starts(n: int) -> list[int]:
        if n <= size:
            return [0]
        return sorted({min(s, n - size) for s in range(0, n, size)})

    return [(y, x, [v[y:y + size, x:x + size] for v in views]) for y in starts(height) for x in starts(width)]


def rank_images(model: Any, images: Iterable[str | Path], *, tta: bool = True, region: int | None = None,
                events: EventSink | None = None) -> list[dict[str, Any]]:
    """Rank ``images`` (or regions of them) by the uncertainty of a trained model.

    Parameters
    ----------
    model : str, Path or ModelSource
        Run folder, ``.keras`` file next to its recipe, or an opened model.
    images : iterable of str or Path
    tta : bool
        Add test-time-augmentation disagreement (4 predictions per image instead of 1).
    region : int, optional
        Segmentation models: rank ``region`` x ``region`` px regions instead of whole images (annotate the
        most uncertain part of a large image first). Rows then carry ``y``, ``x`` and ``size``.

    Returns
    -------
    list of dict
        One row per image (or region), most uncertain first: ``image`` (path), ``rank``, ``score``,
        ``entropy``, ``margin``, ``tta`` and ``prediction`` (class name for classifiers).
    """
    from builder.tasks import get_task
    from builder.workflow.inference import network_output, prepare, resolve_norm_stats
    from builder.workflow.model_source import ModelSource, open_model_source
    from builder.workflow.predict_job import _read_for_model

    source = model if isinstance(model, ModelSource) else open_model_source(model)
    recipe = source.recipe
    pixel = get_task(recipe.task).pixel_output
    if region is not None and not pixel:
        raise CellwrightError("--region", f"Regions are ranked for segmentation models. Received: task="
                              f"{recipe.task!r}.", "Leave out --region to rank whole images (or cell crops).")
    stats, _ = resolve_norm_stats(source.normalization)
    paths = [Path(p) for p in images]
    names, views_per_image, predictions = [], [], []
    for i, path in enumerate(paths):
        image = _read_for_model(path, source, channels=None, project=None)
        x, _ = prepare(image.array, recipe, model=source.model, stats=stats,
                       pixel_size=image.pixel_size or recipe.data.pixel_size)
        views = tta_outputs(lambda a: network_output(source.model, a, recipe), x, pixel_output=pixel,
                            views=4 if tta else 1)
        if region is not None:
            for top, left, cut in regions(views, region):
                names.append(f"{path}@{top},{left}")
                views_per_image.append(cut)
        else:
            names.append(str(path))
            views_per_image.append(views)
        if not pixel and source.class_names:
            predictions.append(list(source.class_names)[int(np.argmax(np.mean(views, axis=0)))])
        if events is not None:
            events(make_event("batch", job="suggest", step=i + 1, total=len(paths), file=str(path)))
    rows = rank_outputs(names, views_per_image, top_fraction=PIXEL_TOP_FRACTION if pixel else 1.0)
    if predictions:
        by_name = dict(zip(names, predictions, strict=True))
        for row in rows:
            row["prediction"] = by_name[row["image"]]
    if region is not None:
        for row in rows:
            image, _, corner = row["image"].rpartition("@")
            top, left = (int(v) for v in corner.split(","))
            row.update(image=image, y=top, x=left, size=region)
    return rows


def write_suggestions(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write the ranking as a CSV table (rank, image, score, entropy, margin, tta[, prediction])."""
    extra = [c for c in ("y", "x", "size", "prediction") if rows and c in rows[0]]
    columns = ["rank", "image", *extra[:3], "score", "entropy", "margin", "tta", *extra[3:]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([f"{row[c]:.4f}" if isinstance(row[c], float) else row[c] for c in columns])
    return atomic_write_text(Path(path), buffer.getvalue())

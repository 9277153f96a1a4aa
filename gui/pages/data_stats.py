"""Counts for the data page: images per split, images or objects per class (no Qt, no TensorFlow)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from builder.tasks import get_task

SPLITS = ("train", "validation", "test")
#: Masks read to count objects / class pixels (enough for a picture of the data set, fast on big ones).
MAX_MASKS = 40


def _discover(data: dict[str, Any], recipe_path: Path | None) -> tuple[Any, Any, str]:
    """``(recipe, dataset, "")`` for the edited recipe, or ``(recipe or None, None, first line of the error)``."""
    from builder.data.layouts import discover
    from builder.errors import CellwrightError
    from builder.recipe.load import recipe_from_dict

    recipe = None
    try:
        recipe = recipe_from_dict(data)
    except (CellwrightError, ValueError) as error:
        try:  # a problem in the model (e.g. an unconnected block) does not stop the data from being counted
            recipe = recipe_from_dict({key: value for key, value in data.items() if key != "model"})
        except (CellwrightError, ValueError):
            return None, None, _first_problem(error)
    try:
        recipe._source_path = recipe_path
        return recipe, discover(recipe, recipe.base_dir), ""
    except (CellwrightError, OSError, ValueError) as error:
        return recipe, None, _first_problem(error)


def _first_problem(error: Exception) -> str:
    """``2 problems found in recipe: data.root: ...`` -> the count and the first problem with its fix, one line."""
    from builder.errors import CellwrightError

    text = error.format() if isinstance(error, CellwrightError) else str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return " ".join(lines[:3]) if lines[0].endswith(":") else lines[0]

def recipe_samples(data: dict[str, Any], recipe_path: Path | None) -> tuple[list[tuple[str, Path, Path | None]],
                                                                         Path | None, str]:
    """The images the recipe trains on, as the engine finds them (any layout, demo data included).

    Returns ``(samples, root, note)``: samples are (split, image, mask or None); ``note`` says why none were
    found (the recipe has errors, the folder is missing, ...).
    """
    recipe, dataset, error = _discover(data, recipe_path)
    if dataset is None:
        return [], None, error
    samples = [(split, s.image_path, s.mask_path or s.target_path) for split, s in dataset.samples()]
    # images the engine leaves out for want of a mask: listed too, so they can be annotated on the data page
    samples += [("unlabelled", Path(p.where), None) for p in dataset.problems
                if p.what.startswith("image without a mask") and Path(p.where).is_file()]
    samples += _proposed(recipe, dataset, {Path(s[1]).name for s in samples})
    return samples, Path(dataset.root), "" if samples else f"No images found in {dataset.root}."


def _proposed(recipe: Any, dataset: Any, listed: set[str]) -> list[tuple[str, Path, Path | None]]:
    """Images whose annotation a model proposed and nobody checked yet (training leaves them out): listed as
    ``proposed`` so they can be corrected and marked checked on the data page."""
    from builder.annotation.checked import read_status
    from builder.annotation.store import label_path_for
    from builder.data.layouts import list_images
    from builder.errors import CellwrightError

    try:
        names = {n for n, row in read_status(dataset.root).items() if row.status == "proposed"} - listed
    except CellwrightError:
        return []
    if not names:
        return []
    root = Path(dataset.root)
    folders = dataset.layout == "folders"
    found = []
    where = [root / recipe.data.images] if folders else [root, *sorted(d for d in root.iterdir() if d.is_dir())]
    for image in (path for folder in where for path in list_images(folder)):
        if image.name in names:
            mask = label_path_for(image, None, masks=str(recipe.data.masks or "masks")) if folders else None
            found.append(("proposed", image, mask if mask is not None and mask.is_file() else None))
            names.discard(image.name)
    return found


def class_counts(data: dict[str, Any], recipe_path: Path | None) -> tuple[list[str], list[list[str]], str]:
    """Table of the recipe's data set: ``(header, rows, note)``.

    Classification: images per class and split. Segmentation: images per split and the share of pixels of
    each class. Instance segmentation: images and objects per split. ``note`` explains a partial count or
    why nothing could be counted (the recipe has errors, the folder is missing, ...).
    """
    recipe, dataset, error = _discover(data, recipe_path)
    if recipe is None or dataset is None:
        return [], [], f"Cannot count the data yet: {error}"
    header = ["", *SPLITS, "total"]
    splits = {s: dataset.splits.get(s) or [] for s in SPLITS}

    def row(name: str, values: dict[str, float], fmt: str = "{:d}") -> list[str]:
        cells = [fmt.format(values.get(s, 0)) for s in SPLITS]
        return [name, *cells, fmt.format(sum(values.get(s, 0) for s in SPLITS))]

    rows = [row("images", {s: len(v) for s, v in splits.items()})]
    note = ""
    task = get_task(recipe.task)
    if task.uses_labels:
        labels = sorted({x.label for v in splits.values() for x in v if x.label is not None})
        for label in labels:
            rows.append(row(label, {s: sum(1 for x in v if x.label == label) for s, v in splits.items()}))
        return header, rows, note
    masked = {s: [x.mask_path for x in v if x.mask_path] for s, v in splits.items()}
    if not any(masked.values()):
        return header, rows, note
    total = sum(len(v) for v in masked.values())
    step = max(1, -(-total // MAX_MASKS))
    if step > 1:
        counted = sum(len(v[::step]) for v in masked.values())
        note = (f"Objects and pixels counted on {counted} of {total} masks (one in {step}) and scaled up to all "
                "masks.")
    objects: dict[str, float] = {}
    pixels: dict[str, Counter] = {}
    for split, paths in masked.items():
        pixels[split] = Counter()
        for path in paths[::step]:
            mask = _read_mask(path)
            values, counts = np.unique(mask, return_counts=True)
            objects[split] = objects.get(split, 0) + int((values > 0).sum()) * step
            pixels[split].update({int(v): int(c) * step for v, c in zip(values, counts, strict=True)})
    if not task.masks_are_classes:
        rows.append(row("objects (cells)", objects))
    else:
        names = list(recipe.data.classes or [])
        all_values = sorted(set().union(*pixels.values()))
        for value in all_values:
            name = names[value] if value < len(names) else f"class {value}"
            share = {s: 100.0 * pixels[s][value] / max(sum(pixels[s].values()), 1) for s in SPLITS}
            total_share = 100.0 * sum(pixels[s][value] for s in SPLITS) / max(
                sum(sum(p.values()) for p in pixels.values()), 1)
            rows.append([f"{name} (% pixels)", *(f"{share[s]:.1f}" for s in SPLITS), f"{total_share:.1f}"])
    return header, rows, note


def _read_mask(path: Path) -> np.ndarray:
    from builder.data.readers import read_image

    array = np.asarray(read_image(path).array)
    return array[..., 0] if array.ndim == 3 else array

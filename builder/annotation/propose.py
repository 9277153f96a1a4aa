"""Correct, don't redraw: write a model's predictions as editable annotations in the dataset's own layout.

Segmentation (``folders`` layout): a label TIFF in the masks folder, named like the image (instance labels as
uint16/uint32, class masks as uint8). Classification: a ``path,label`` row in the manifest CSV (``manifest``
layout), or the image moved/copied into the predicted class folder (``class_folders``). Every annotation written
here is marked ``proposed`` in ``annotation_status.csv`` (see :mod:`builder.annotation.checked`), so training
leaves it out until a person checks it. An annotation a person made or checked is never overwritten.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from builder.annotation.checked import mark, read_status
from builder.annotation.classes import move_to_class, set_manifest_label
from builder.annotation.store import image_stem, write_labels
from builder.errors import CellwrightError, DataError
from builder.events import EventSink, make_event
from builder.tasks import all_tasks, get_task


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def unlabelled_images(recipe: Any, dataset: Any) -> list[Path]:
    """Images of the dataset that have no annotation yet, or only a proposed one.

    ``folders``: images in ``data.images`` without a mask; ``manifest``: rows with an empty label. Proposed
    annotations are listed again so a newer model can replace them.
    """
    from builder.data.layouts import list_images, sample_key

    root, data = Path(dataset.root), recipe.data
    proposed = {name for name, row in read_status(root).items() if row.status == "proposed"}
    if dataset.layout == "folders":
        masks = {sample_key(p) for p in list_images(root / (data.masks or "masks"))}
        return [p for p in list_images(root / data.images, data.pattern)
                if sample_key(p) not in masks or p.name in proposed]
    if dataset.layout == "manifest":
        from builder.data.layouts import _manifest

        return [s.image_path for s in _manifest(root, data) if s.label is None or s.image_path.name in proposed]
    return []


def _write_mask(result: dict[str, Any], image_path: Path, root: Path, recipe: Any,
                pixel_size: float | None = None) -> Path:
    """The prediction as ``masks/<image name>.tif`` (uint16 labels, the file the annotation tools write)."""
    images_dir, masks_dir = root / recipe.data.images, root / (recipe.data.masks or "masks")
    masks_dir.mkdir(parents=True, exist_ok=True)
    if not _inside(image_path, images_dir):
        images_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(image_path, images_dir / image_path.name)
    labels = np.asarray(result.get("labels", result.get("mask")))
    return write_labels(masks_dir / f"{image_stem(image_path)}.tif", labels, pixel_size=pixel_size)


def _manifest_row(manifest: Path, root: Path, image_path: Path, label: str) -> Path:
    """Set ``label`` for ``image_path`` in the manifest (appending a row when it is not listed)."""
    if not _inside(image_path, root):
        (root / "images").mkdir(exist_ok=True)
        shutil.copy2(image_path, root / "images" / image_path.name)
        image_path = root / "images" / image_path.name
    set_manifest_label(manifest, image_path.resolve().relative_to(root.resolve()).as_posix(), label)
    return manifest


def _class_folder(root: Path, image_path: Path, label: str) -> Path:
    """Move (inside the data folder) or copy (from elsewhere) the image into the predicted class folder."""
    folder = root / label
    folder.mkdir(exist_ok=True)
    target = folder / image_path.name
    for other in root.iterdir():  # a re-proposal: the old proposed copy goes
        if other.is_dir() and other != folder and (other / image_path.name).is_file() and other / image_path.name \
                != image_path:
            (other / image_path.name).unlink()
    if image_path.resolve() == target.resolve():
        return target
    if _inside(image_path, root):
        return move_to_class(image_path, root, label)
    shutil.copy2(image_path, target)
    return target


def _name_clash(image_path: Path, dataset: Any) -> str | None:
    """Why an image from outside the data folder cannot be copied in: another image there has its name."""
    root = Path(dataset.root)
    if _inside(image_path, root):
        return None
    data_bytes = None
    for other in root.rglob(image_path.name):
        if other.is_file():
            data_bytes = data_bytes if data_bytes is not None else image_path.read_bytes()
            if other.read_bytes() != data_bytes:
                return (f"another image in the data folder has the same name ({other.relative_to(root)}); "
                        "rename this one and propose it again")
    return None


def _refuse_overwrite(image_path: Path, status: dict[str, Any], dataset: Any, recipe: Any) -> str | None:
    """Why ``image_path``'s annotation must not be replaced (a person made or checked it), else None."""
    clash = _name_clash(image_path, dataset)
    if clash is not None:
        return clash
    row = status.get(image_path.name)
    if row is not None and row.status == "proposed":
        return None
    if row is not None:
        return f"its annotation is marked {row.status}"
    if dataset.layout == "folders":
        from builder.data.layouts import list_images, sample_key

        masks = {sample_key(p) for p in list_images(Path(dataset.root) / (recipe.data.masks or "masks"))}
        if sample_key(image_path) in masks:
            return "it already has a mask made by a person"
    if dataset.layout in ("manifest", "class_folders"):
        labelled = {Path(s.image_path).name for _, s in dataset.samples() if s.label is not None}
        if image_path.name in labelled:
            return "it already has a class label made by a person"
    return None


def propose_annotations(model: Any, images: Iterable[str | Path] | None = None, *,
                        events: EventSink | None = None) -> dict[str, Any]:
    """Predict ``images`` with a trained model and write the predictions as proposed annotations.

    Parameters
    ----------
    model : str, Path or ModelSource
        A run folder (or ``.keras`` file next to its recipe); its recipe names the dataset to write into.
    images : iterable of str or Path, optional
        Images or folders to annotate; by default the dataset's images without an annotation (see
        :func:`unlabelled_images`). Images from outside the data folder are copied into it.
    events : callable, optional
        Receives ``start``, ``batch`` (one per image) and ``done`` events.

    Returns
    -------
    dict
        ``root`` (data folder), ``layout``, ``proposed`` (rows: image, annotation, class or objects),
        ``kept`` (images whose annotation a person made or checked: left as they are, with the reason).

    Raises
    ------
    CellwrightError
        The task cannot be proposed, or the layout does not hold annotations Cellwright can write.
    """
    from builder.data.layouts import discover
    from builder.workflow.inference import predict_image
    from builder.workflow.model_source import ModelSource, open_model_source
    from builder.workflow.predict_inputs import collect_inputs
    from builder.workflow.predict_job import _read_for_model

    source = model if isinstance(model, ModelSource) else open_model_source(model)
    recipe = source.recipe
    task = get_task(recipe.task)
    if not task.proposes_annotations:
        able = ", ".join(t.name for t in all_tasks().values() if t.proposes_annotations)
        raise CellwrightError("task", f"Proposed annotations exist for {able}. Received: "
                              f"task={recipe.task!r}.", "Annotate these images by hand instead.")
    dataset = discover(recipe, recipe.base_dir)
    root = Path(dataset.root)
    allowed = ("manifest", "class_folders") if task.uses_labels else ("folders",)
    if dataset.layout not in allowed:
        raise DataError("data.layout", f"Proposed annotations are written in the {' or '.join(allowed)} layout. "
                        f"Received: layout={dataset.layout!r}.", "Lay the data out as "
                        f"{allowed[0]} (see the README's data section), then propose again.")
    paths = collect_inputs(images)[0] if images is not None else unlabelled_images(recipe, dataset)
    if not paths:
        raise DataError(str(root), "No images to annotate: every image already has an annotation.",
                        "Pass the images (or a folder of them) to annotate, e.g. cellwright propose RUN new_images/.")
    status = read_status(root)
    proposed, kept = [], []
    run_name = source.run_dir.name if source.run_dir is not None else Path(source.path).name
    if events is not None:
        events(make_event("start", job="propose", total=len(paths), model=str(source.path)))
    for i, path in enumerate(paths):
        reason = _refuse_overwrite(path, status, dataset, recipe)
        if reason is not None:
            kept.append({"image": str(path), "why": reason})
            continue
        image = _read_for_model(path, source, channels=None, project=None)
        px = image.pixel_size or recipe.data.pixel_size
        result = predict_image(source.model, image.array, recipe, norm_stats=source.normalization,
                               postprocess=source.postprocess, pixel_size=px)
        row: dict[str, Any] = {"image": path.name}
        if task.uses_labels:
            label = list(source.class_names or [])[int(result["class_index"])]
            row.update({"class": label, "probability": float(np.max(result["probabilities"]))})
            row["annotation"] = str(_manifest_row(root / str(recipe.data.manifest), root, path, label)
                                    if dataset.layout == "manifest" else _class_folder(root, path, label))
        else:
            row["annotation"] = str(_write_mask(result, path, root, recipe, pixel_size=image.pixel_size))
            labels = np.asarray(result.get("labels", result.get("mask")))
            row["objects" if "labels" in result else "foreground_pixels"] = (
                int(len(np.unique(labels[labels > 0]))) if "labels" in result else int((labels > 0).sum()))
        mark(root, [path.name], "proposed", by=run_name)
        proposed.append(row)
        if events is not None:
            events(make_event("batch", job="propose", step=i + 1, total=len(paths), file=str(path)))
    if events is not None:
        events(make_event("done", job="propose", n_proposed=len(proposed), n_kept=len(kept)))
    return {"root": str(root), "layout": dataset.layout, "proposed": proposed, "kept": kept}

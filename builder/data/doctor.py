"""The data doctor: scan a dataset before training and say, in plain language, what is wrong and how to fix it.

Every finding is a :class:`builder.errors.Problem` (severity ``error``, ``warning`` or ``info``) naming the file,
what was found and what to do. Training refuses to start on errors.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.data.layouts import SPLITS, Dataset, Sample, discover, list_images
from builder.data.readers import ImageData, read_image
from builder.data.skipped import folder_findings
from builder.errors import DataError, Problem
from builder.tasks import get_task, task_for_layout

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: A class with this many times fewer training images than the largest class is reported as imbalanced.
IMBALANCE_RATIO = 3.0
#: Pixel sizes differing by more than this fraction are reported.
PIXEL_SIZE_TOLERANCE = 0.05


def check_dataset(recipe: Recipe, base_dir: str | Path = ".", *, dataset: Dataset | None = None) -> list[Problem]:
    """Scan the recipe's dataset and return every finding (errors first).

    Parameters
    ----------
    recipe : Recipe
    base_dir : str or Path
        Folder of the recipe file.
    dataset : Dataset, optional
        Already discovered samples (found with :func:`discover` when left out).

    Returns
    -------
    list of Problem
    """
    try:
        dataset = dataset or discover(recipe, base_dir)
    except DataError as error:
        return [Problem(error.where, error.what, error.fix, "error")]
    problems: list[Problem] = list(dataset.problems)
    problems += _counts(recipe, dataset)
    if get_task(recipe.task).time_lapse:
        from builder.data.ctc_summary import ctc_findings

        problems += ctc_findings(dataset.root)
    problems += _scan_files(recipe, dataset)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(problems, key=lambda p: order.get(p.severity, 3))


def check_folder(path: str | Path) -> list[Problem]:
    """Guess the task and layout of a data folder, then run :func:`check_dataset` on it."""
    from builder.recipe.schema import Recipe

    path = Path(path).resolve()
    if not path.is_dir():
        return [Problem(str(path), "folder not found.", "Give the folder that holds your images.")]
    task, data, note = guess_layout(path)
    if task is None:
        unread = [f for sub in [path, *sorted(p for p in path.iterdir() if p.is_dir())] for f in folder_findings(sub)]
        return [Problem(str(path), note, "Use images/ + masks/, one folder per class, source/ + target/, or the "
                        "Cell Tracking Challenge layout; or write a recipe and run 'cellwright check RECIPE'."),
                *unread]
    recipe = Recipe.model_validate({"name": "check", "task": task, "data": data})
    info = Problem(str(path), f"Read as {note}.", "If that is wrong, write a recipe and check the recipe instead.",
                   "info")
    return [*check_dataset(recipe, path), info]


def guess_layout(path: Path) -> tuple[str | None, dict[str, Any], str]:
    """Return ``(task, data section dict, description)`` for a folder, or ``(None, {}, reason)``."""
    subs = {p.name.lower(): p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")}
    split: dict[str, Any] = {}
    inner = path
    if "train" in subs:
        inner = path / subs["train"]
        split = {"mode": "folders", "validation_folder": subs.get("validation", subs.get("val", "validation")),
                 "test_folder": subs.get("test", "test")}
        subs = {p.name.lower(): p.name for p in inner.iterdir() if p.is_dir() and not p.name.startswith(".")}
    data: dict[str, Any] = {"root": ".", "split": split} if split else {"root": "."}
    if "images" in subs and "masks" in subs:
        task = task_for_layout("folders", "masks")
        return task, {**data, "images": subs["images"], "masks": subs["masks"]}, f"{_title(task)} (images/ + masks/)"
    if "images" in subs and "targets" in subs:
        task = task_for_layout("folders", "targets")
        return task, {**data, "images": subs["images"], "targets": subs["targets"]}, \
            f"{_title(task)} (images/ + targets/)"
    if "source" in subs and ("target" in subs or "targets" in subs):
        task = task_for_layout("paired")
        return task, {**data, "layout": "paired"}, f"{_title(task)} (source/ + target/)"
    if any(name.isdigit() for name in subs) and any(name.endswith("_gt") for name in subs):
        return task_for_layout("ctc"), {**data, "layout": "ctc"}, "a Cell Tracking Challenge data set"
    class_dirs = [p for p in subs.values() if list_images(inner / p)]
    if len(class_dirs) >= 2:
        task = task_for_layout("class_folders")
        return task, {**data, "layout": "class_folders"}, \
            f"{_title(task)} with {len(class_dirs)} classes (one folder per class)"
    if "images" in subs:
        return task_for_layout("noisy_only"), {**data, "layout": "noisy_only"}, \
            "images only (self-supervised denoising)"
    return None, {}, "could not tell how this folder is organised."


def _title(task: str | None) -> str:
    return get_task(task).title.split(" (")[0].lower() if task else "unknown task"


# ----------------------------------------------------------------------------------------------- counts


def _counts(recipe: Recipe, dataset: Dataset) -> list[Problem]:
    root, out = str(dataset.root), []
    sizes = {name: len(dataset.splits.get(name, [])) for name in SPLITS}
    out.append(Problem(root, "Images per split: " + ", ".join(f"{k} {v}" for k, v in sizes.items()) + ".", "",
                       "info"))
    if sizes["train"] == 0:
        out.append(Problem(root, "the training set is empty.",
                           "Check data.root, data.images and data.pattern, or lower data.split.validation/test.",
                           "error"))
    elif sizes["validation"] == 0 and not get_task(recipe.task).time_lapse:
        out.append(Problem(root, "the validation set is empty, so over-fitting cannot be seen.",
                           "Add images or set data.split.validation to 0.15 (random split).", "warning"))
    if not get_task(recipe.task).uses_labels:
        return out
    for split in SPLITS:
        counts = Counter(s.label for s in dataset.splits.get(split, []))
        if counts:
            out.append(Problem(root, f"Images per class in {split}: "
                               + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".", "", "info"))
    train = Counter(s.label for s in dataset.splits.get("train", []))
    for name in dataset.classes or []:
        if train.get(name, 0) == 0:
            out.append(Problem(f"{root}/{name}", f"class {name!r} has no training images.",
                               "Add images of this class or remove it from data.classes.", "error"))
    present = [v for v in train.values() if v]
    if len(present) >= 2 and max(present) / min(present) >= IMBALANCE_RATIO:
        small = min(train, key=lambda k: train[k])
        big = max(train, key=lambda k: train[k])
        out.append(Problem(root, f"classes are imbalanced: {big!r} has {train[big]} training images, "
                           f"{small!r} only {train[small]}.",
                           "Add images of the small classes, or set train.class_weights: auto.", "warning"))
    return out


# ----------------------------------------------------------------------------------------------- files


def _read(path: Path, recipe: Recipe, problems: list[Problem], channels: bool = True) -> ImageData | None:
    data = recipe.data
    try:
        if channels:
            return read_image(path, channels=data.channels, file_channels=data.file_channels)
        return read_image(path)
    except DataError as error:
        if data.skip_unreadable:
            problems.append(Problem(error.where, error.what + " It is skipped (data.skip_unreadable).",
                                    "Replace or remove the file to use it.", "warning"))
        else:
            problems.append(Problem(error.where, error.what, error.fix, "error"))
        return None


def _scan_files(recipe: Recipe, dataset: Dataset) -> list[Problem]:
    problems: list[Problem] = []
    task = get_task(recipe.task)
    if task.time_lapse:
        return problems
    seen: dict[str, tuple[str, Path]] = {}
    images: list[tuple[Sample, ImageData]] = []
    patch = recipe.preprocess.patch.size
    for split, sample in dataset.samples():
        image = _read(sample.image_path, recipe, problems)
        if image is None:
            continue
        images.append((sample, image))
        digest = hashlib.sha1(image.array.tobytes() + str(image.array.shape).encode()).hexdigest()
        if digest in seen and seen[digest][0] != split:
            problems.append(Problem(str(sample.image_path),
                                    f"same pixels as {seen[digest][1]} ({seen[digest][0]}) but in {split}: "
                                    "the test or validation score would be too optimistic.",
                                    "Remove one copy so each image is in only one split.", "error"))
        elif digest in seen:
            problems.append(Problem(str(sample.image_path), f"duplicate of {seen[digest][1]} in {split}.",
                                    "Remove one copy.", "warning"))
        else:
            seen[digest] = (split, sample.image_path)
        small = min(image.array.shape[-3:-1]) < patch
        if not task.whole_image_input and recipe.preprocess.image_size is None and small:
            problems.append(Problem(str(sample.image_path),
                                    f"image is {image.array.shape[-3]}x{image.array.shape[-2]} px, smaller than the "
                                    f"patch size {patch}; it will be padded.",
                                    f"Lower preprocess.patch.size to {_pow2_below(min(image.array.shape[-3:-1]))} or "
                                    "use larger images.", "warning"))
        if sample.mask_path is not None:
            _check_mask(sample, image, recipe, problems)
        if sample.target_path is not None:
            target = _read(sample.target_path, recipe, problems, channels=False)
            if target is not None and target.array.shape[:-1] != image.array.shape[:-1]:
                problems.append(Problem(str(sample.target_path),
                                        f"target is {_yx(target)} but its image is {_yx(image)}.",
                                        "Images and targets must have the same size; re-export the pair.", "error"))
    problems += _consistency(recipe, images)
    return problems


def _check_mask(sample: Sample, image: ImageData, recipe: Recipe, problems: list[Problem]) -> None:
    if sample.mask_path is None:
        return
    mask = _read(sample.mask_path, recipe, problems, channels=False)
    if mask is None:
        return
    where = str(sample.mask_path)
    arr = mask.array
    if arr.shape[:-1] != image.array.shape[:-1]:
        problems.append(Problem(where, f"mask is {_yx(mask)} but its image {sample.image_path.name} is "
                                f"{_yx(image)}.", "Masks must have the same height and width as their image.",
                                "error"))
    if arr.shape[-1] != 1:
        problems.append(Problem(where, f"mask has {arr.shape[-1]} channels; a mask has one (label values).",
                                "Save the mask as a single-channel 8/16-bit label image.", "error"))
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr))]
            problems.append(Problem(where, f"mask holds non-integer values (e.g. {float(bad.flat[0])}); "
                                    "masks must be integer labels (0 background, 1, 2, ... objects).",
                                    "Save masks as 8- or 16-bit integer label images, not probabilities or "
                                    "smoothed images.", "error"))
            return
        problems.append(Problem(where, "mask is stored as floating point (values are whole numbers).",
                                "Save masks as 16-bit integer images to save space.", "info"))
    if arr.size and arr.min() < 0:
        problems.append(Problem(where, f"mask has negative values (min {arr.min()}).",
                                "Use 0 for background and positive labels for objects.", "error"))
    if not np.any(arr):
        problems.append(Problem(where, "mask is empty (all background).",
                                "Check the annotation; empty masks teach the model to find nothing.", "warning"))
    classes = recipe.data.classes
    if (get_task(recipe.task).masks_are_classes and classes and recipe.data.mask_kind != "binary" and arr.size
            and arr.max() >= len(classes)):
        problems.append(Problem(where, f"mask value {int(arr.max())} but only {len(classes)} classes "
                                f"are named in data.classes.", "Add the missing class names or fix the mask.",
                                "error"))


def _consistency(recipe: Recipe, images: list[tuple[Sample, ImageData]]) -> list[Problem]:
    out: list[Problem] = []
    if not images:
        return out
    channel_counts = Counter(im.n_channels for _, im in images)
    expected = len(recipe.data.channels) if recipe.data.channels else channel_counts.most_common(1)[0][0]
    dtypes = Counter(str(im.array.dtype) for _, im in images)
    common_dtype = dtypes.most_common(1)[0][0]
    for sample, im in images:
        where = str(sample.image_path)
        if im.n_channels == 3 and expected == 1:
            same = np.array_equal(im.array[..., 0], im.array[..., 1]) and np.array_equal(im.array[..., 0],
                                                                                            im.array[..., 2])
            out.append(Problem(where, "RGB image where grey images were expected"
                               + (" (its three channels are identical)." if same else "."),
                               "Convert it to greyscale in Fiji (Image > Type > 8-bit), or pick one channel with "
                               "data.channels: [red].", "error" if not same else "warning"))
        elif im.n_channels != expected:
            out.append(Problem(where, f"has {im.n_channels} channels but the other images have {expected}.",
                               "Give every image the same channels, or choose them with data.channels.", "error"))
        if str(im.array.dtype) != common_dtype:
            out.append(Problem(where, f"is {im.array.dtype} while most images are {common_dtype}.",
                               "Mixed bit depths are normalised per image; check it is the right file, or set "
                               "preprocess.normalize.per: image.", "warning"))
    sizes = {im.pixel_size for _, im in images if im.pixel_size}
    known = [im.pixel_size for _, im in images if im.pixel_size]
    if sizes and max(sizes) / min(sizes) > 1 + PIXEL_SIZE_TOLERANCE:
        small = next(s for s, im in images if im.pixel_size == min(sizes))
        big = next(s for s, im in images if im.pixel_size == max(sizes))
        out.append(Problem(str(big.image_path), f"pixel size {max(sizes):.4g} µm differs from "
                           f"{min(sizes):.4g} µm of {small.image_path.name}; objects will look different sizes.",
                           f"Set preprocess.resample_to: {min(sizes):.4g} to bring all images to one pixel size.",
                           "warning"))
    if sizes:
        spread = f"{min(sizes):.4g} µm" if len(sizes) == 1 else f"{min(sizes):.4g} to {max(sizes):.4g} µm"
        endings = sorted({s.image_path.suffix.lower() for s, im in images if im.pixel_size})
        out.append(Problem(str(images[0][0].image_path.parent), f"Pixel size: {spread}, as stated by "
                           f"{len(known)} of {len(images)} images ({', '.join(endings)} files).", "", "info"))
    if known and len(known) < len(images):
        out.append(Problem(str(images[0][0].image_path.parent), f"{len(images) - len(known)} of {len(images)} "
                           "images do not state their pixel size.", "Set data.pixel_size if you know it.", "info"))
    return out


def _yx(image: ImageData) -> str:
    return f"{image.array.shape[-3]}x{image.array.shape[-2]}"


def _pow2_below(n: int) -> int:
    p = 8
    while p * 2 <= n:
        p *= 2
    return p

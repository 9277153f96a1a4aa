"""Find the samples of a dataset (``data:`` in a recipe) and split them into train / validation / test.

Layouts: ``folders`` (images/ + masks/ or targets/), ``class_folders`` (one folder per class), ``manifest``
(CSV ``path,label`` / ``image,mask`` / ``image,target``, optional ``split`` column), ``paired`` (source/ +
target/), ``noisy_only``, ``ctc`` (Cell Tracking Challenge) and ``demo`` (generated on first use).
Splits: fixed sub-folders, or a seeded random split that is stratified by class for classification and keeps
whole images (groups) on one side for the other tasks.
"""

from __future__ import annotations

import csv
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.data.readers import is_image_file
from builder.data.skipped import folder_findings, formats_fix
from builder.errors import DataError, Problem
from builder.tasks import get_task

if TYPE_CHECKING:
    from builder.recipe import Recipe

SPLITS = ("train", "validation", "test")
_MASK_SUFFIXES = re.compile(r"([_-](mask|masks|label|labels|seg|target|gt|cp_masks))$")
#: What the demo kinds are laid out as (helper "demo" writes them).
_DEMO_LAYOUT = {"nuclei": "folders", "cells": "class_folders", "denoise": "folders", "label_free": "folders",
                "timelapse": "ctc"}


@dataclass
class Sample:
    """One training example: an image plus its mask, target or label."""

    image_path: Path
    mask_path: Path | None = None
    target_path: Path | None = None
    label: str | None = None
    group: str = ""
    split: str | None = None  # fixed by a manifest's 'split' column
    frame: int | None = None  # index in a multi-frame file (time-lapse sequences of the ctc layout)
    markers_path: Path | None = None  # TRA markers of a partly annotated SEG mask (cells not outlined: no loss)

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Sample:
        """The sample :meth:`to_dict` wrote (``split.json`` rows); unknown keys are ignored."""

        def path(key: str) -> Path | None:
            return Path(row[key]) if row.get(key) else None

        label, split, frame = row.get("label"), row.get("split"), row.get("frame")
        return cls(image_path=Path(row["image_path"]), mask_path=path("mask_path"), target_path=path("target_path"),
                   markers_path=path("markers_path"), label=None if label is None else str(label),
                   group=str(row.get("group", "")),
                   split=None if split is None else str(split), frame=None if frame is None else int(frame))


@dataclass
class Dataset:
    """Samples per split, plus what discovery noticed (images without masks, ...)."""

    task: str
    layout: str
    root: Path
    splits: dict[str, list[Sample]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    classes: list[str] | None = None
    problems: list[Problem] = field(default_factory=list)

    def samples(self) -> list[tuple[str, Sample]]:
        """All ``(split, sample)`` pairs."""
        return [(name, s) for name in SPLITS for s in self.splits.get(name, [])]

    def to_split_json(self) -> dict[str, Any]:
        """What goes into a run's ``split.json``."""
        return {"layout": self.layout, "root": str(self.root), "classes": self.classes,
                "splits": {k: [s.to_dict() for s in v] for k, v in self.splits.items()}}


def sample_key(path: Path) -> str:
    """Name used to pair an image with its mask/target: stem without endings and mask suffixes, lower case."""
    name = path.name
    for ending in (".ome.tiff", ".ome.tif", ".ome.zarr"):
        if name.lower().endswith(ending):
            name = name[: -len(ending)]
            break
    else:
        name = path.stem if path.suffix else name
    return _MASK_SUFFIXES.sub("", name.lower())


def list_images(folder: Path, pattern: str = "*") -> list[Path]:
    """Image files (and OME-Zarr folders) in ``folder`` whose names match ``pattern``, sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if is_image_file(p) and fnmatch.fnmatch(p.name, pattern))


def discover(recipe: Recipe, base_dir: str | Path = ".") -> Dataset:
    """List the samples of the recipe's dataset, split into train / validation / test.

    Parameters
    ----------
    recipe : Recipe
        Uses ``recipe.task`` and ``recipe.data``.
    base_dir : str or Path
        Folder of the recipe file; ``data.root`` is relative to it.

    Returns
    -------
    Dataset
        Deterministic for a given ``data.split.seed``.

    Raises
    ------
    DataError
        If the data folder or a required sub-folder is missing.
    """
    data = recipe.data
    root = (Path(base_dir) / data.root).resolve()
    layout: str = data.layout
    if layout == "demo":
        if "root" not in data.model_fields_set:
            root = demo_home()
        root, layout = _demo_root(root, data.demo)
    if not root.is_dir():
        raise DataError(f"data.root ({root})", "folder not found.", "Check data.root; it is relative to the recipe.")
    dataset = Dataset(recipe.task, layout, root)
    split = data.split
    stratify = split.stratify and get_task(recipe.task).uses_labels
    if split.mode == "folders":
        for name, sub in zip(SPLITS, (split.train_folder, split.validation_folder, split.test_folder), strict=True):
            folder = root / sub
            if not folder.is_dir():
                if name == "train":
                    raise DataError(
                        f"data.split.train_folder ({folder})", "folder not found.",
                        "Create train/ (and validation/, test/) sub-folders, or use data.split.mode: random.",
                    )
                if name == "validation" and split.validation > 0:
                    continue  # carved from train/ below
                dataset.problems.append(Problem(str(folder), f"no {name} folder; the {name} set is empty.",
                                                f"Create {sub}/ or set data.split.mode: random.", "warning"))
                continue
            dataset.splits[name] = _find(recipe, folder, layout, dataset)
        if not dataset.splits["validation"] and split.validation > 0 and dataset.splits["train"]:
            carved = random_split(dataset.splits["train"], split.validation, 0.0, split.seed, stratify=stratify)
            dataset.splits["train"], dataset.splits["validation"] = carved["train"], carved["validation"]
            dataset.problems.append(Problem(
                str(root / split.train_folder), f"no validation images in {split.validation_folder}/: "
                f"{len(carved['validation'])} of the {split.train_folder}/ images (data.split.validation = "
                f"{split.validation}, whole groups) are kept for validation.", "", "info"))
    else:
        samples = _find(recipe, root, layout, dataset)
        fixed = [s for s in samples if s.split]
        if fixed and len(fixed) < len(samples):
            dataset.splits = _honour_partial_split(samples, split, stratify, dataset, root)
        elif samples and fixed:
            for s in samples:
                dataset.splits[str(s.split)].append(s)
        else:
            dataset.splits = random_split(samples, split.validation, split.test, split.seed, stratify=stratify)
    if get_task(recipe.task).uses_labels:
        found = sorted({s.label for _, s in dataset.samples() if s.label is not None})
        dataset.classes = list(data.classes) if data.classes else found
    else:
        dataset.classes = list(data.classes) if data.classes else None
    from builder.annotation.checked import apply_status

    return apply_status(dataset)  # proposed (unchecked) annotations out, guard images into the test split


def random_split(
    samples: list[Sample], validation: float, test: float, seed: int, *, stratify: bool = False
) -> dict[str, list[Sample]]:
    """Seeded split of whole groups (images, sequences, cell tracks); stratified by ``label`` when ``stratify``.

    A group (``Sample.group``, else the image) always lands in one split, also when its samples carry different
    labels: stratification uses each group's most common label. Every split with a fraction above 0 gets at
    least one group when there are three groups or more, and the training set is never empty.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, list[Sample]] = {s: [] for s in SPLITS}
    groups: dict[str, list[Sample]] = {}
    for s in sorted(samples, key=lambda s: str(s.image_path)):
        groups.setdefault(s.group or str(s.image_path), []).append(s)
    strata: dict[str, list[str]] = {}
    for name in sorted(groups):
        labels = [str(s.label) for s in groups[name] if s.label is not None]
        key = max(sorted(set(labels)), key=labels.count) if stratify and labels else ""
        strata.setdefault(key, []).append(name)
    for key in sorted(strata):
        names = strata[key]
        order = [names[i] for i in rng.permutation(len(names))]
        n = len(order)
        n_val = _count(n, validation)
        n_test = _count(n, test)
        while n_val + n_test >= n and n_val + n_test > 0:
            if n_test >= n_val and n_test:
                n_test -= 1
            else:
                n_val -= 1
        for i, name in enumerate(order):
            split = "validation" if i < n_val else "test" if i < n_val + n_test else "train"
            out[split].extend(groups[name])
    return out


def _honour_partial_split(samples: list[Sample], split: Any, stratify: bool, dataset: Dataset,
                          root: Path) -> dict[str, list[Sample]]:
    """A manifest whose ``split`` column is filled for some rows: those rows keep their split, the others are
    split at random (into test too only when no row names the test split)."""
    fixed = [s for s in samples if s.split]
    rest = [s for s in samples if not s.split]
    named = {s.split for s in fixed}
    fixed_groups = {s.group for s in fixed if s.group}
    shared = sorted({s.group for s in rest if s.group in fixed_groups})
    if shared:
        raise DataError(f"{root} (manifest split column)", f"{len(shared)} group(s) have rows with and without a "
                        f"split (e.g. {shared[0]!r}), so one group would land in two splits.",
                        "Fill the split column for every row of a group, or for none.")
    test = 0.0 if "test" in named else split.test
    validation = 0.0 if "validation" in named else split.validation
    out = random_split(rest, validation, test, split.seed, stratify=stratify)
    for s in fixed:
        out[str(s.split)].append(s)
    counts = ", ".join(f"{k} {sum(1 for s in fixed if s.split == k)}" for k in SPLITS if k in named)
    dataset.problems.append(Problem(str(root), f"The manifest's split column is filled for {len(fixed)} of "
                                    f"{len(samples)} rows ({counts}); those keep their split and the other "
                                    f"{len(rest)} rows are split at random (seed {split.seed}).",
                                    "Fill the split column for every row to fix the whole split.", "info"))
    return out


def _count(n: int, fraction: float) -> int:
    if fraction <= 0:
        return 0
    return max(1 if n >= 3 else 0, int(round(fraction * n)))


def demo_home() -> Path:
    """Where built-in demo data is generated: ``$CELLWRIGHT_HOME/demo`` (default ``~/.cellwright/demo``)."""
    import os

    home = os.environ.get("CELLWRIGHT_HOME")
    return (Path(home) if home else Path.home() / ".cellwright") / "demo"


def _demo_root(root: Path, kind: str | None) -> tuple[Path, str]:
    if not kind:
        raise DataError("data.demo", "layout is 'demo' but no demo data set is named.",
                        f"Set data.demo to one of {', '.join(_DEMO_LAYOUT)}.")
    if kind not in _DEMO_LAYOUT:
        raise DataError("data.demo", f"unknown demo data set {kind!r}.", f"Use one of {', '.join(_DEMO_LAYOUT)}.")
    from builder.data.demo_cache import ensure_demo

    return ensure_demo(kind, root / f"demo-{kind}", seed=0), _DEMO_LAYOUT[kind]


def _find(recipe: Recipe, folder: Path, layout: str, dataset: Dataset) -> list[Sample]:
    samples = _find_samples(recipe, folder, layout, dataset)
    severity = "warning" if recipe.data.skip_unreadable else "error"
    for sub in _listed_folders(recipe, folder, layout):
        dataset.problems += folder_findings(sub, link_severity=severity)
    return samples


def _listed_folders(recipe: Recipe, folder: Path, layout: str) -> list[Path]:
    """The folders whose files :func:`_find_samples` lists (to name the entries it had to leave out)."""
    data = recipe.data
    if layout == "class_folders":
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if layout == "noisy_only":
        return [folder / data.images]
    if layout == "paired":
        images = data.images if (folder / data.images).is_dir() else "source"
        other = data.targets or next((n for n in ("target", "targets") if (folder / n).is_dir()), "target")
        return [folder / images, folder / other]
    if layout == "folders":
        other = (data.targets or "targets") if get_task(recipe.task).image_target else (data.masks or "masks")
        return [folder / data.images, folder / other]
    return []


def _find_samples(recipe: Recipe, folder: Path, layout: str, dataset: Dataset) -> list[Sample]:
    data, task = recipe.data, get_task(recipe.task)
    if layout == "class_folders":
        return _class_folders(folder, data)
    if layout == "manifest":
        return _manifest(folder, data)
    if layout == "ctc":
        return _ctc(folder, data.split if data.split.mode != "folders" else None)
    if layout == "noisy_only":
        return [Sample(p, group=sample_key(p)) for p in list_images(folder / data.images, data.pattern)]
    if task.uses_labels:
        raise DataError("data.layout", f"layout {layout!r} does not give class labels.",
                        "Use layout: class_folders (one folder per class) or a manifest with path,label.")
    if layout == "paired":
        images = data.images if (folder / data.images).is_dir() else "source"
        other = data.targets or next((n for n in ("target", "targets") if (folder / n).is_dir()), "target")
        return _pairs(folder, images, other, "target_path", data.pattern, dataset)
    # folders
    if task.image_target:
        return _pairs(folder, data.images, data.targets or "targets", "target_path", data.pattern, dataset)
    return _pairs(folder, data.images, data.masks or "masks", "mask_path", data.pattern, dataset)


def _pairs(root: Path, images: str, others: str, kind: str, pattern: str, dataset: Dataset) -> list[Sample]:
    image_dir, other_dir = root / images, root / others
    for sub, key in ((image_dir, "data.images"), (other_dir, "data.masks" if kind == "mask_path" else "data.targets")):
        if not sub.is_dir():
            raise DataError(f"{key} ({sub})", "folder not found.",
                            f"Put the files in {sub.name}/ under {root}, or set {key} to the right sub-folder.")
    what = "mask" if kind == "mask_path" else "target"
    others_by_key = {sample_key(p): p for p in list_images(other_dir)}
    samples = []
    for path in list_images(image_dir, pattern):
        key = sample_key(path)
        match = others_by_key.get(key)
        if match is None:
            dataset.problems.append(Problem(
                str(path), f"image without a {what}: no file named like it in {other_dir}.",
                f"Add the {what} as {other_dir.name}/{path.name} (same name), or remove the image.", "error"))
            continue
        samples.append(Sample(path, group=key, mask_path=match if kind == "mask_path" else None,
                              target_path=match if kind == "target_path" else None))
    all_image_keys = {sample_key(p) for p in list_images(image_dir)}
    for key, path in sorted(others_by_key.items()):
        if key not in all_image_keys:
            dataset.problems.append(Problem(
                str(path), f"{what} without an image: no file named like it in {image_dir}.",
                f"Add the image to {image_dir.name}/ with the same name, or remove this {what}.", "warning"))
    return samples


def _class_folders(root: Path, data: Any) -> list[Sample]:
    classes = list(data.classes) if data.classes else sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and list_images(p))
    if not classes:
        unread = [f for p in sorted(root.iterdir()) if p.is_dir() for f in folder_findings(p)]
        raise DataError(str(root), "no class folders with images found."
                        + "".join(f" {f.where}: {f.what}" for f in unread),
                        formats_fix() if unread else
                        "Put the images of each class in their own sub-folder, e.g. healthy/ and infected/.")
    samples = []
    for name in classes:
        for path in list_images(root / name, data.pattern):
            samples.append(Sample(path, label=name, group=f"{name}/{sample_key(path)}"))
    return samples


def _manifest(root: Path, data: Any) -> list[Sample]:
    if not data.manifest:
        raise DataError("data.manifest", "layout is 'manifest' but no manifest file is named.",
                        "Set data.manifest to a CSV file with columns path,label or image,mask.")
    path = root / data.manifest
    if not path.is_file():
        raise DataError(f"data.manifest ({path})", "file not found.", "Check the file name and data.root.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    samples = []
    for i, row in enumerate(rows, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        image = row.get("path") or row.get("image")
        if not image:
            raise DataError(f"{path}:{i}", "row has no 'path' or 'image' column value.",
                            "Start the CSV with a header line 'path,label' or 'image,mask'.")
        sample = Sample(root / image, label=row.get("label") or None, group=row.get("group") or sample_key(Path(image)))
        if row.get("mask"):
            sample.mask_path = root / row["mask"]
        if row.get("target"):
            sample.target_path = root / row["target"]
        if row.get("split"):
            split = {"val": "validation", "valid": "validation"}.get(row["split"].lower(), row["split"].lower())
            if split not in SPLITS:
                raise DataError(f"{path}:{i}", f"unknown split {row['split']!r}.", "Use train, validation or test.")
            sample.split = split
        samples.append(sample)
    return samples


_CTC_FRAME = re.compile(r"^t(\d+)\.tiff?$", re.IGNORECASE)


def _ctc_mask(gt: Path, digits: str, prefer_markers: bool) -> Path | None:
    seg, tra = gt / "SEG" / f"man_seg{digits}.tif", gt / "TRA" / f"man_track{digits}.tif"
    order = (tra, seg) if prefer_markers else (seg, tra)
    return next((p for p in order if p.is_file()), None)


def _ctc(root: Path, split: Any = None) -> list[Sample]:
    """One sample per frame, split by time within each sequence (last frames: test, the ones before: validation).

    A sequence is a folder of frames (``01/t000.tif`` ...) or a multi-frame file (``01.ome.tif``, ``01.ome.zarr``;
    see :mod:`builder.data.timelapse`). Training and validation frames carry their SEG mask, or their TRA markers
    where the frame has no SEG mask (or the frame of the label time-lapse ``01_labels.ome.tif``); test frames carry
    their TRA markers (tracking is scored on them).
    """
    from builder.data.timelapse import LABELS_SUFFIX, frame_count, labels_file, sequence_name

    folders = sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d+", p.name))
    files = sorted(p for p in root.iterdir() if is_image_file(p) and (name := sequence_name(p)) is not None
                   and not name.endswith(LABELS_SUFFIX) and not re.fullmatch(r"\d+", p.name))
    if not folders and not files:
        raise DataError(str(root), "no Cell Tracking Challenge sequences (01/, 02/, ... or 01.ome.tif) found.",
                        "Use the CTC layout: 01/t000.tif ..., 01_GT/TRA/man_track.txt, 01_GT/SEG/; or one "
                        "time-lapse file per sequence (01.ome.tif) with 01_GT/ or a label time-lapse "
                        "01_labels.ome.tif.")
    sequences: list[tuple[str, list[tuple[Path, str, int | None]]]] = []
    for seq in folders:
        numbered = {p: m.group(1) for p in seq.iterdir() if (m := _CTC_FRAME.match(p.name))}
        sequences.append((seq.name, [(p, numbered[p], None) for p in sorted(numbered, key=lambda p: int(numbered[p]))]))
    for path in files:
        name = str(sequence_name(path))
        sequences.append((name, [(path, f"{t:03d}", t) for t in range(frame_count(path))]))
    samples = []
    for name, frames in sequences:
        n = len(frames)
        n_test = _count(n, split.test) if split is not None else 0
        n_val = _count(n, split.validation) if split is not None else 0
        gt = root / f"{name}_GT"
        labels = labels_file(root, name) if frames and frames[0][2] is not None else None
        for i, (frame, digits, index) in enumerate(frames):
            which = "test" if i >= n - n_test else "validation" if i >= n - n_test - n_val else "train"
            if gt.is_dir():
                mask = _ctc_mask(gt, digits, prefer_markers=which == "test")
                markers = _ctc_mask(gt, digits, prefer_markers=True) if which != "test" else None
            else:
                mask, markers = labels, None
            samples.append(Sample(frame, mask_path=mask, group=name, split=which if split is not None else None,
                                  frame=index, markers_path=markers if markers != mask else None))
    return samples

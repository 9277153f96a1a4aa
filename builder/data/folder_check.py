"""Check a data folder for a task the user has already chosen (the new-recipe wizard's data doctor).

:func:`builder.data.doctor.check_folder` guesses the task from the folder; the wizard knows the task, so this
module reads the folder as that task, says plainly when nothing usable is there ("no images found in ..."),
and measures the objects in the masks (objects per image, median object diameter) so the user can choose a
patch size. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder.data.readers import is_image_file
from builder.errors import Problem
from builder.tasks import get_task

#: Masks read to measure objects (enough for a median, fast on a big folder).
MAX_MASKS = 12
#: Files looked at when searching a folder for images.
MAX_FILES_SCANNED = 5000


@dataclass
class FolderReport:
    """What the wizard shows and uses: findings, whether training can start, and the recipe's data section."""

    folder: Path
    usable: bool
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    objects_per_image: float | None = None
    median_diameter: float | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def count_images(folder: Path, limit: int = MAX_FILES_SCANNED) -> int:
    """Number of image files under ``folder`` (stops counting after ``limit`` files looked at)."""
    found = 0
    for seen, path in enumerate(folder.rglob("*")):
        if seen >= limit:
            break
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts) \
                and is_image_file(path):
            found += 1
    return found


def object_sizes(mask: np.ndarray, *, whole_only: bool = False) -> list[float]:
    """Equivalent diameters (px) of the objects of one mask (time and channel axes: the first plane): ids for
    instance masks, connected parts when one value marks the foreground (``whole_only``: without the objects that
    touch the image edge; see :func:`builder.data.object_scale.object_diameters`)."""
    from builder.data.object_scale import object_diameters

    mask = np.asarray(mask)
    while mask.ndim > 2:
        mask = mask[..., 0] if mask.shape[-1] <= 4 else mask[0]
    values = np.unique(mask)
    values = values[values != 0]
    if values.size == 0:
        return []
    return object_diameters(mask, instances=values.size > 1, whole_only=whole_only).tolist()


def check_folder_for_task(folder: str | Path, task: str) -> FolderReport:
    """Read ``folder`` as data for ``task`` and report in plain words (see the module docstring)."""
    from builder.data.doctor import _title, check_dataset, guess_layout
    from builder.recipe.schema import Recipe

    folder = Path(folder).expanduser()
    spec = get_task(task)
    if not folder.is_dir():
        return FolderReport(folder, False, [f"✗ Folder not found: {folder}. Choose the folder that holds your "
                                            "images."])
    if count_images(folder) == 0:
        return FolderReport(folder, False, [f"✗ No images found in {folder} (looked for TIFF, PNG, JPEG, .npy "
                                            "and OME-Zarr files in it and its sub-folders). Choose the folder "
                                            "that holds your images."])
    guessed, data, note = guess_layout(folder.resolve())
    if guessed is None:
        return FolderReport(folder, False, [f"✗ Images were found in {folder}, but {note} A {spec.title.lower()} "
                                            f"recipe needs one of these layouts: {', '.join(spec.layouts)} (for "
                                            "example images/ + masks/ with the same file names)."])
    layout = data.get("layout", "folders")
    if layout not in spec.layouts:
        return FolderReport(folder, False, [f"✗ {folder} looks like {note}, which does not fit "
                                            f"{spec.title.lower()}: it needs one of the layouts "
                                            f"{', '.join(spec.layouts)}. Choose another folder or another task."])
    data = {**data, "root": str(folder.resolve())}
    recipe = Recipe.model_validate({"name": "check", "task": task, "data": data})
    problems = check_dataset(recipe, folder)
    report = FolderReport(folder, not any(p.severity == "error" for p in problems), data=data)
    report.lines.append(f"✓ Read as {_title(task)}: {note.split(' (')[-1].rstrip(')') if '(' in note else note}.")
    report.lines += [_line(p) for p in problems]
    if spec.mask_target:
        _measure_objects(recipe, folder, report)
    return report


def _measure_objects(recipe: Any, folder: Path, report: FolderReport) -> None:
    from builder.data.layouts import discover
    from builder.data.readers import read_image
    from builder.errors import DataError

    try:
        dataset = discover(recipe, folder)
    except DataError:
        return
    masks = [s.mask_path for _split, s in dataset.samples() if s.mask_path is not None][:MAX_MASKS]
    from builder.data.object_scale import choose_diameters

    counts, diameters, clear = [], [], []
    for path in masks:
        try:
            array = read_image(path).array
            sizes = object_sizes(array)
        except DataError:
            continue
        counts.append(len(sizes))
        diameters += sizes
        clear += object_sizes(array, whole_only=True)
    if not counts:
        return
    report.objects_per_image = float(np.mean(counts))
    measured, whole = choose_diameters(np.asarray(diameters), np.asarray(clear))  # as object_diameter: auto does
    report.median_diameter = float(np.median(measured)) if measured.size else None
    text = f"✓ Objects per image: {report.objects_per_image:.0f} on average (min {min(counts)}, max {max(counts)}, " \
           f"{len(counts)} masks read)"
    if report.median_diameter is not None:
        cut = " (objects cut by the image edge left out)" if whole else ""
        text += f"; median object diameter {report.median_diameter:.0f} px{cut}. A patch size of at least " \
                f"{_patch_hint(report.median_diameter)} px holds several whole objects."
    report.lines.append(text)


def _patch_hint(diameter: float) -> int:
    size = 32
    while size < 4 * diameter and size < 1024:
        size *= 2
    return size


def _line(problem: Problem) -> str:
    mark = {"error": "✗ ", "warning": "⚠ "}.get(problem.severity, "✓ ")
    return mark + problem.format()

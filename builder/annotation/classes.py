"""Class labels on disk: images moved into class folders, the label column of a manifest CSV, cell crops.

All in the layouts the engine reads (``class_folders``: ``root/<class>/<image>``; ``manifest``: a CSV with
``path,label``), written atomically: a file move is one :func:`os.replace`, the CSV is rewritten through a
temporary file.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from pathlib import Path

import numpy as np

from builder.annotation.store import image_stem
from builder.data.layouts import list_images
from builder.errors import DataError
from builder.io_utils import atomic_write_text


def _check_class(name: str) -> str:
    if not name or name.startswith(".") or any(ch in name for ch in "/\\:"):
        raise DataError(what="Invalid class name.", key="data.classes", expected="a plain folder name",
                        received=repr(name), fix="Use names such as healthy or infected (no slashes).")
    return name


def class_of(image: Path, root: Path) -> str | None:
    """The class of an image in the ``class_folders`` layout (its folder under ``root``), None when unsorted."""
    image, root = Path(image), Path(root)
    return image.parent.name if image.parent.parent == root else None


def move_to_class(image: Path, root: Path, name: str) -> Path:
    """Put ``image`` into ``root/<name>/`` (one atomic rename) and return its new path.

    Raises
    ------
    DataError
        If another file of that name is already in the class folder.
    """
    image, root = Path(image), Path(root)
    target = root / _check_class(name) / image.name
    if target == image:
        return image
    if target.exists():
        raise DataError(what="A file of the same name is already in that class.", file=str(target),
                        expected="a free file name", received=image.name,
                        fix="Rename one of the two files, then assign the class again.")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(image, target)
    return target


def folder_counts(root: Path, classes: list[str]) -> dict[str, int]:
    """Images per class folder (0 for a class without a folder yet), plus ``unsorted`` (images at ``root``)."""
    root = Path(root)
    counts = {name: len(list_images(root / name)) for name in classes}
    counts["unsorted"] = len(list_images(root))
    return counts


def _read_manifest(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not path.is_file():
        return ["path", "label"], []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or ["path", "label"]), list(reader)


def set_manifest_label(manifest: Path, image: str, label: str) -> None:
    """Set the ``label`` of ``image`` in a manifest CSV (adding the row, or the column, when missing).

    Other columns and rows are kept as they were; the file is replaced atomically.
    """
    manifest = Path(manifest)
    fields, rows = _read_manifest(manifest)
    key = next((f for f in fields if f.strip().lower() in ("path", "image")), None)
    if key is None:
        raise DataError(what="The manifest has no image column.", file=str(manifest),
                        expected="a header with 'path' or 'image'", received=",".join(fields),
                        fix="Start the CSV with the header line 'path,label'.")
    column = next((f for f in fields if f.strip().lower() == "label"), None)
    if column is None:
        column = "label"
        fields.append(column)
    for row in rows:
        if (row.get(key) or "").strip() == image:
            row[column] = label
            break
    else:
        rows.append({key: image, column: label})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(manifest, out.getvalue())


def manifest_labels(manifest: Path) -> dict[str, str]:
    """``{image: label}`` of a manifest CSV (rows without a label left out)."""
    fields, rows = _read_manifest(Path(manifest))
    key = next((f for f in fields if f.strip().lower() in ("path", "image")), "path")
    column = next((f for f in fields if f.strip().lower() == "label"), "label")
    return {(r.get(key) or "").strip(): (r.get(column) or "").strip() for r in rows if (r.get(column) or "").strip()}


def manifest_paths(manifest: Path) -> list[str]:
    """The image paths a manifest CSV lists, in its order (none when the file does not exist yet)."""
    fields, rows = _read_manifest(Path(manifest))
    key = next((f for f in fields if f.strip().lower() in ("path", "image")), "path")
    return [(r.get(key) or "").strip() for r in rows if (r.get(key) or "").strip()]


def label_counts(labels: dict[str, str], classes: list[str]) -> dict[str, int]:
    """How many items carry each class (every class listed, also with 0)."""
    counted = Counter(labels.values())
    return {name: counted.get(name, 0) for name in [*classes, *sorted(set(counted) - set(classes))]}


def object_boxes(labels: np.ndarray, pad: int = 4) -> dict[int, tuple[int, int, int, int]]:
    """``{id: (row0, row1, col0, col1)}``: each object's bounding box grown by ``pad`` pixels, clipped."""
    from scipy import ndimage

    labels = np.asarray(labels)
    boxes = {}
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None:
            continue
        r, c = found
        boxes[index] = (max(0, r.start - pad), min(labels.shape[0], r.stop + pad),
                        max(0, c.start - pad), min(labels.shape[1], c.stop + pad))
    return boxes


def crop_name(image: Path, object_id: int) -> str:
    """File name of a cell crop: ``<image name>_cell<id>.tif``."""
    return f"{image_stem(Path(image))}_cell{object_id}.tif"


def save_crop(pixels: np.ndarray, box: tuple[int, int, int, int], root: Path, name: str, file_name: str) -> Path:
    """Write the crop ``pixels[box]`` as ``root/<name>/<file_name>`` (a class_folders dataset of cells).

    A crop of the same name in another class folder is removed, so each cell has one class.
    """
    import tifffile

    from builder.io_utils import atomic_write_with

    root = Path(root)
    r0, r1, c0, c1 = box
    crop = np.ascontiguousarray(np.asarray(pixels)[r0:r1, c0:c1])
    if crop.ndim == 3 and crop.shape[-1] == 1:
        crop = crop[..., 0]  # one channel: a plain 2-D image
    target = root / _check_class(name) / file_name
    atomic_write_with(target, lambda tmp: tifffile.imwrite(tmp, crop), suffix=".tif")
    for other in root.iterdir():
        if other.is_dir() and other.name != name and (other / file_name).is_file():
            (other / file_name).unlink()
    return target


def crop_classes(root: Path, image: Path) -> dict[int, str]:
    """``{object id: class}`` of the crops of ``image`` already saved under ``root`` (to reopen a session)."""
    root, prefix = Path(root), f"{image_stem(Path(image))}_cell"
    found: dict[int, str] = {}
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in folder.glob(f"{prefix}*.tif"):
            number = path.stem[len(prefix):]
            if number.isdigit():
                found[int(number)] = folder.name
    return found

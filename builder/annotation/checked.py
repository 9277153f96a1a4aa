"""Which annotations a person checked: ``annotation_status.csv`` next to the data (``data.root``).

A plain CSV a user can open in a spreadsheet, one row per image whose annotation is not an ordinary hand-made one::

    image,status,by,updated
    cell_017.png,proposed,run-20261127-1302,2026-11-27T13:02:11
    cell_004.png,checked,user,2026-11-27T13:10:40
    cell_001.png,guard,user,2026-11-27T13:20:02

``image`` is the file name (not the folder: an image moved to another class folder keeps its row). ``status`` is

- ``proposed``: the model's prediction was written as the annotation and nobody has checked it yet. Training
  leaves these images out.
- ``checked``: a person looked at (and corrected) the proposed annotation. Training uses it.
- ``guard``: labelled once by a person and kept for judging models (the guard set): never trained on, always in
  the test split, so a retrained model can be compared with the current one on the same images.

Images without a row are ordinary annotations made by a person and are used as before.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from builder.errors import DataError, Problem
from builder.io_utils import atomic_write_text

STATUS_FILE = "annotation_status.csv"
STATUSES = ("proposed", "checked", "guard")
COLUMNS = ("image", "status", "by", "updated")


@dataclass(frozen=True)
class StatusRow:
    """One image's annotation status."""

    image: str
    status: str
    by: str = ""
    updated: str = ""


def status_path(root: str | Path) -> Path:
    """The status file of the data folder ``root``."""
    return Path(root) / STATUS_FILE


def read_status(root: str | Path) -> dict[str, StatusRow]:
    """Rows of ``root``'s status file by image name (empty when there is no file).

    Raises
    ------
    DataError
        A row names an unknown status or the header is not ``image,status,...``.
    """
    path = status_path(root)
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "image" not in reader.fieldnames or "status" not in reader.fieldnames:
            raise DataError(str(path), f"Expected a header line starting 'image,status'. Received: "
                            f"{','.join(reader.fieldnames or [])!r}.",
                            "Restore the first line to 'image,status,by,updated' (or delete the file to mark every "
                            "annotation as made by a person).")
        rows: dict[str, StatusRow] = {}
        for line, row in enumerate(reader, start=2):
            image, status = (row.get("image") or "").strip(), (row.get("status") or "").strip().lower()
            if not image:
                continue
            if status not in STATUSES:
                raise DataError(f"{path}:{line}", f"Unknown annotation status for {image}. Expected one of "
                                f"{', '.join(STATUSES)}. Received: status={status!r}.",
                                "Write proposed, checked or guard in the status column.")
            rows[image] = StatusRow(image, status, (row.get("by") or "").strip(), (row.get("updated") or "").strip())
    return rows


def write_status(root: str | Path, rows: dict[str, StatusRow]) -> Path:
    """Write ``rows`` (sorted by image name) atomically to ``root``'s status file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for name in sorted(rows):
        row = rows[name]
        writer.writerow([row.image, row.status, row.by, row.updated])
    return atomic_write_text(status_path(root), buffer.getvalue())


def mark(root: str | Path, images: Iterable[str | Path], status: str, *, by: str = "user") -> list[str]:
    """Set the status of ``images`` (paths or names) in ``root``'s status file; returns the names marked.

    Raises
    ------
    DataError
        ``status`` is not one of :data:`STATUSES`.
    """
    if status not in STATUSES:
        raise DataError("status", f"Expected one of {', '.join(STATUSES)}. Received: status={status!r}.",
                        "Use proposed, checked or guard.")
    rows = read_status(root)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    names = [Path(image).name for image in images]
    for name in names:
        rows[name] = StatusRow(name, status, by, now)
    write_status(root, rows)
    return names


def names_with(root: str | Path, status: str) -> list[str]:
    """Image names of ``root`` that have ``status``, sorted."""
    return sorted(name for name, row in read_status(root).items() if row.status == status)


def apply_status(dataset: Any) -> Any:
    """Leave proposed (unchecked) annotations out of ``dataset`` and put guard images in its test split.

    Called by :func:`builder.data.layouts.discover`; a data folder without a status file is returned unchanged.
    Adds an ``info`` problem saying how many images each rule moved.
    """
    rows = read_status(dataset.root)
    if not rows:
        return dataset
    proposed, guard = [], []
    for split in list(dataset.splits):
        kept = []
        for sample in dataset.splits[split]:
            row = rows.get(Path(sample.image_path).name)
            if row is not None and row.status == "proposed":
                proposed.append(sample)
            elif row is not None and row.status == "guard" and split != "test":
                guard.append(sample)
            else:
                kept.append(sample)
        dataset.splits[split] = kept
    dataset.splits.setdefault("test", []).extend(guard)
    where = str(status_path(dataset.root))
    if proposed:
        dataset.problems.append(Problem(
            where, f"{len(proposed)} image(s) have a proposed annotation nobody checked yet (e.g. "
            f"{Path(proposed[0].image_path).name}); training leaves them out.",
            "Check and correct them, then mark them checked (cellwright annotations check DATA IMAGE...).", "info"))
    if guard:
        dataset.problems.append(Problem(
            where, f"{len(guard)} guard image(s) moved to the test split: models are judged on them and never "
            "trained on them.", "", "info"))
    return dataset

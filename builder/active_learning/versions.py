"""Model versions of one data folder: what each was trained on and how it did on the guard set.

Every training run writes ``annotations.json`` (:func:`annotation_record`): how many annotations it learnt from,
which ones, how many a person checked after a model proposed them, and a checksum of them all. ``cellwright
retrain`` adds a row per new version to ``model_versions.csv`` next to the data::

    version,run,parent,n_annotations,annotations_sha256,guard_metric,guard_score,parent_guard_score,accepted,current

``current`` marks the version to use now (the newest one the guard accepted). The table gives the report's
"annotations vs score" curve.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

from builder.annotation.checked import read_status
from builder.io_utils import atomic_write_text

VERSIONS_FILE = "model_versions.csv"
COLUMNS = ("version", "run", "parent", "n_annotations", "annotations_sha256", "guard_metric", "guard_score",
           "parent_guard_score", "accepted", "current")
#: Longest list of image names kept in ``annotations.json`` (the count and checksum cover them all).
MAX_NAMES = 2000


def _file_sha(path: Any) -> str:
    if path is None or not Path(path).is_file():
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def annotation_record(dataset: Any) -> dict[str, Any]:
    """What a model is trained on: the annotations of the train and validation splits.

    Returns
    -------
    dict
        ``n_annotations``, ``n_checked`` (proposed by a model, then checked by a person), ``n_guard`` (kept out
        for judging), ``n_proposed_left_out``, ``images`` (names, at most :data:`MAX_NAMES`) and ``sha256``:
        a checksum over every image name with its label or the checksum of its mask/target file, so two runs
        trained on the same annotations have the same checksum.
    """
    status = read_status(dataset.root)
    samples = [s for split in ("train", "validation") for s in dataset.splits.get(split, [])]
    lines = sorted(f"{Path(s.image_path).name}\t{s.label if s.label is not None else ''}\t"
                   f"{_file_sha(s.mask_path or s.target_path)}" for s in samples)
    names = sorted(Path(s.image_path).name for s in samples)
    return {
        "n_annotations": len(samples),
        "n_checked": sum(1 for n in names if n in status and status[n].status == "checked"),
        "n_guard": sum(1 for row in status.values() if row.status == "guard"),
        "n_proposed_left_out": sum(1 for row in status.values() if row.status == "proposed"),
        "images": names[:MAX_NAMES],
        "images_complete": len(names) <= MAX_NAMES,
        "sha256": hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest(),
        "status_file": str(Path(dataset.root) / "annotation_status.csv") if status else None,
    }


def versions_path(root: str | Path) -> Path:
    return Path(root) / VERSIONS_FILE


def read_versions(root: str | Path) -> list[dict[str, str]]:
    """Rows of ``model_versions.csv`` (oldest first; empty when there is none)."""
    path = versions_path(root)
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def current_run(root: str | Path) -> str | None:
    """The run folder of the current model version, or None when no version was recorded."""
    rows = [r for r in read_versions(root) if r.get("current") == "yes"]
    return rows[-1]["run"] if rows else None


def add_version(root: str | Path, row: dict[str, Any]) -> list[dict[str, str]]:
    """Append a version (the first call also records its parent as version 1); keeps ``current`` on the newest
    accepted version. Returns every row."""
    rows = read_versions(root)
    if not rows and row.get("parent"):
        rows.append({"version": "1", "run": str(row["parent"]), "parent": "", "accepted": "yes",
                     "n_annotations": str(row.pop("parent_n_annotations", "")),
                     "annotations_sha256": str(row.pop("parent_sha256", "")),
                     "guard_metric": row.get("guard_metric", ""),
                     "guard_score": str(row.get("parent_guard_score", "")), "parent_guard_score": ""})
    row = {k: v for k, v in row.items() if k in COLUMNS}
    row["version"] = str(len(rows) + 1)
    row["accepted"] = "yes" if row.get("accepted") in (True, "yes") else "no"
    rows.append({k: str(row.get(k, "")) for k in COLUMNS})
    current = max((i for i, r in enumerate(rows) if r.get("accepted") == "yes"), default=None)
    for i, r in enumerate(rows):
        r["current"] = "yes" if i == current else ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: r.get(k, "") for k in COLUMNS} for r in rows)
    atomic_write_text(versions_path(root), buffer.getvalue())
    return rows

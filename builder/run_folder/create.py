"""Create, open and list run folders: ``runs/<name>-<YYYYmmdd-HHMMSS>/``."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.errors import TrainingError
from builder.run_folder import files
from builder.run_folder.folder import RunFolder

if TYPE_CHECKING:
    from builder.recipe import Recipe


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")
    return slug or "run"


def create_run_folder(
    runs_dir: str | Path,
    name: str,
    *,
    recipe: Recipe | Mapping[str, Any] | None = None,
    split: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
    now: _dt.datetime | None = None,
) -> RunFolder:
    """Create a new, empty ``runs_dir/<name>-<YYYYmmdd-HHMMSS>/`` folder; never reuse an existing one.

    If a folder with that name already exists (two runs in the same second), ``-2``, ``-3``... is appended.

    Parameters
    ----------
    runs_dir : str or Path
        Parent folder, created if needed.
    name : str
        Recipe name; characters unsafe in file names become ``-``.
    recipe, split : optional
        Written as the run's recipe and split files when given.
    environment : dict, optional
        Versions and devices, written as the run's environment record (the training package collects them).
    now : datetime, optional
        Timestamp to use (tests).
    """
    parent = Path(runs_dir)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{_slug(name)}-{stamp}"
    for attempt in range(1, 1000):
        candidate = parent / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - a thousand runs in one second
        raise TrainingError(str(parent), f"Could not create a new run folder named {base}.", "Remove old runs.")
    run = RunFolder(candidate)
    run.checkpoints_dir.mkdir()
    if recipe is not None:
        run.write_recipe(recipe)
    if split is not None:
        run.write_split(split)
    if environment is not None:
        run.write_environment(environment)
    return run


def open_run_folder(path: str | Path) -> RunFolder:
    """Open an existing run folder (for ``--resume``, evaluate, report); raise TrainingError when it is not one."""
    folder = Path(path)
    if not folder.is_dir():
        raise TrainingError(
            where=str(folder),
            what="This run folder does not exist.",
            fix="Pass a folder under runs/ that 'cellwright train' created, e.g. runs/my-run-20250101-120000.",
        )
    if not (folder / files.CHECKPOINTS.name).is_dir():
        raise TrainingError(
            where=str(folder),
            what=f"This folder is not a Cellwright run folder (it has no {files.CHECKPOINTS.name}/ folder).",
            fix="Pass the folder that 'cellwright train' printed when the run started.",
        )
    return RunFolder(folder)


def is_run_folder(path: str | Path) -> bool:
    """True when ``path`` is a folder a training run wrote (it has checkpoints, a recipe or events)."""
    run = RunFolder(Path(path))
    return run.path.is_dir() and (run.checkpoints_dir.is_dir() or run.recipe_path.is_file()
                                  or run.events_path.is_file())


def list_runs(runs_dir: str | Path, name: str | None = None) -> list[RunFolder]:
    """Run folders directly under ``runs_dir`` (only those of recipe ``name`` when given), oldest name first."""
    parent = Path(runs_dir)
    if not parent.is_dir():
        return []
    pattern = f"{_slug(name)}-*" if name is not None else "*"
    return [RunFolder(p) for p in sorted(parent.glob(pattern)) if is_run_folder(p)]

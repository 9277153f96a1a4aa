"""Remove what a killed run left behind: half-written temporary files and checkpoints no state names.

Every file of a run is written to a hidden temporary name and renamed when complete (``builder.io_utils``,
``builder.export._files``). A process killed mid-write leaves that temporary behind:
``.epoch-0003.keras.*.tmp.keras`` in ``checkpoints/``, ``.state.json.*.tmp`` next to ``state.json`` and
``exports/.bundle.zip.*/`` folders. :func:`clean_run_folder` removes them and makes ``last.keras`` and
``best.keras`` point at the checkpoints ``state.json`` names, so a run folder read after a kill always agrees with
its state. (The exporters' scratch folders in the system temporary folder are cleaned by
:func:`builder.export._files.scratch_dir`.)
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from builder.io_utils import replace_with_link
from builder.run_folder import RunFolder

_TEMP_FILE = re.compile(r"^\..+\.(tmp|tmp\.keras|partial|link\.tmp)$")


def _remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return False
    return True


def _temporary_files(run_dir: Path) -> list[Path]:
    found = [p for p in run_dir.rglob(".*") if p.is_file() and _TEMP_FILE.match(p.name)]
    exports = RunFolder(run_dir).exports_dir
    if exports.is_dir():  # atomic export folders: exports/.<name>.<random>/
        found += [p for p in exports.iterdir() if p.name.startswith(".") and p.is_dir()]
    return found


def _stale_checkpoints(checkpoints: Path, state: dict) -> list[Path]:
    """Epoch and best-candidate checkpoints written after the last ``state.json`` (a kill came before it)."""
    keep = {state.get("checkpoint"), state.get("best_checkpoint")}
    if not state.get("checkpoint"):
        return []
    return [p for pattern in ("epoch-*.keras", "best-epoch-*.keras") for p in checkpoints.glob(pattern)
            if p.name not in keep]


def _relink(source: Path, target: Path) -> None:
    if source.is_file() and not (target.is_file() and os.path.samefile(source, target)):
        replace_with_link(source, target)


def clean_run_folder(run_dir: str | Path, state: dict | None = None) -> list[Path]:
    """Delete a run folder's leftover temporary files and stale checkpoints; re-point last/best.keras.

    Parameters
    ----------
    run_dir : path
        The run folder (only call this when no other process is writing into it).
    state : dict, optional
        Its ``state.json`` (None: no epoch finished yet; only temporary files are removed).

    Returns
    -------
    list of Path
        What was removed.
    """
    run_dir = Path(run_dir)
    removed = [p for p in _temporary_files(run_dir) if _remove(p)]
    run = RunFolder(run_dir)
    checkpoints = run.checkpoints_dir
    if state and checkpoints.is_dir():
        removed += [p for p in _stale_checkpoints(checkpoints, state) if _remove(p)]
        _relink(checkpoints / str(state.get("checkpoint")), run.last_checkpoint)
        if state.get("best_checkpoint"):
            _relink(checkpoints / str(state["best_checkpoint"]), run.best_checkpoint)
    return removed

"""Which stages of ``cellwright train`` a run folder has finished (``stages.json``), so ``--resume`` does the rest.

Training itself is finished when ``state.json`` says so (all epochs, or stopped early); evaluation, report and
export are recorded here once each has completed. A run killed during evaluation is resumed by evaluating again,
not refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from builder.io_utils import atomic_write_json
from builder.run_folder import RunFolder, files

#: The stages after training, in the order ``cellwright train`` runs them.
AFTER_TRAINING = ("evaluate", "report", "export")


def stages_path(run_dir: str | Path) -> Path:
    return RunFolder(Path(run_dir)).file(files.STAGES)


def _read(run_dir: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(stages_path(run_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def finished_stages(run_dir: str | Path) -> list[str]:
    """Stages recorded as finished in ``run_dir/stages.json`` (empty when the file is absent or unreadable)."""
    finished = _read(run_dir).get("finished", [])
    return list(finished) if isinstance(finished, list) else []


def mark_finished(run_dir: str | Path, stage: str) -> None:
    """Record ``stage`` as finished (atomically; earlier stages and other records are kept)."""
    data = _read(run_dir)
    done = finished_stages(run_dir)
    if stage not in done:
        done.append(stage)
    atomic_write_json(stages_path(run_dir), {**data, "finished": done})


def hold_out_test(run_dir: str | Path) -> None:
    """Record that this run keeps its test images out until ``cellwright evaluate`` (``train --no-test``)."""
    atomic_write_json(stages_path(run_dir), {**_read(run_dir), "finished": finished_stages(run_dir),
                                             "test_held_out": True})


def test_held_out(run_dir: str | Path) -> bool:
    """True when the run was started with ``train --no-test`` (a resumed run keeps the test images out too)."""
    return bool(_read(run_dir).get("test_held_out"))


def training_finished(state: dict[str, Any] | None, epochs: int) -> bool:
    """True when ``state.json`` says the fit loop ended: ``epochs`` (the recipe's) done, or stopped early."""
    if not state:
        return False
    return int(state.get("epoch", 0)) >= int(epochs) or bool(state.get("stop_training"))

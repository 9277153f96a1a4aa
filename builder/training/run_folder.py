"""The run folder: ``runs/<name>-<YYYYmmdd-HHMMSS>/`` with everything a training run leaves behind."""

from __future__ import annotations

import datetime as _dt
import json
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.errors import TrainingError
from builder.io_utils import atomic_write_json, atomic_write_text


@dataclass(frozen=True)
class RunFolder:
    """Paths inside one run folder (the folder itself must exist)."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def recipe_path(self) -> Path:
        return self.path / "recipe.yaml"

    @property
    def split_path(self) -> Path:
        return self.path / "split.json"

    @property
    def environment_path(self) -> Path:
        return self.path / "environment.json"

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def history_csv(self) -> Path:
        return self.path / "history.csv"

    @property
    def history_json(self) -> Path:
        return self.path / "history.json"

    @property
    def state_path(self) -> Path:
        return self.path / "state.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.json"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints_dir / "last.keras"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints_dir / "best.keras"

    @property
    def exports_dir(self) -> Path:
        return self.path / "exports"

    # -- writers ---------------------------------------------------------------------------------------------
    def write_recipe(self, recipe: Any) -> Path:
        """Write the resolved recipe (every default filled) as YAML; ``recipe`` is a pydantic model or a dict."""
        import yaml

        data = recipe.model_dump(mode="json") if hasattr(recipe, "model_dump") else dict(recipe)
        return atomic_write_text(self.recipe_path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))

    def write_split(self, split: dict[str, Any]) -> Path:
        """Write the data split (e.g. ``{"train": [...], "validation": [...], "test": [...]}``)."""
        return atomic_write_json(self.split_path, split)

    def write_environment(self, environment: dict[str, Any] | None = None) -> Path:
        """Write versions and devices (see :func:`collect_environment`)."""
        return atomic_write_json(self.environment_path, environment or collect_environment())

    def read_state(self) -> dict[str, Any]:
        """Read ``state.json``; raise a :class:`TrainingError` saying how to continue when it is missing."""
        if not self.state_path.is_file():
            raise TrainingError(
                where=str(self.path),
                what="This run folder has no state.json, so no finished epoch to resume from.",
                fix="Start a new run with 'cellwright train RECIPE' (the run stopped before its first epoch ended).",
            )
        return json.loads(self.state_path.read_text(encoding="utf-8"))

    def read_history(self) -> list[dict[str, Any]]:
        """Read ``history.json`` (one dict per finished epoch); empty when absent."""
        if not self.history_json.is_file():
            return []
        return list(json.loads(self.history_json.read_text(encoding="utf-8")))


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")
    return slug or "run"


def create_run_folder(
    runs_dir: str | Path,
    name: str,
    *,
    recipe: Any = None,
    split: dict[str, Any] | None = None,
    environment: dict[str, Any] | bool = True,
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
        Written as ``recipe.yaml`` and ``split.json`` when given.
    environment : dict or bool
        ``True`` collects and writes ``environment.json`` (imports TensorFlow), a dict is written as is,
        ``False`` skips it.
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
    if environment is True:
        run.write_environment()
    elif isinstance(environment, dict):
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
    if not (folder / "checkpoints").is_dir():
        raise TrainingError(
            where=str(folder),
            what="This folder is not a Cellwright run folder (it has no checkpoints/ folder).",
            fix="Pass the folder that 'cellwright train' printed when the run started.",
        )
    return RunFolder(folder)


def collect_environment() -> dict[str, Any]:
    """Versions (Python, TensorFlow, Keras, NumPy, Cellwright), the platform, the CPU and the visible GPUs."""
    import keras
    import numpy
    import tensorflow as tf

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(device)
        except Exception:
            details = {}
        gpus.append({"name": device.name, "model": details.get("device_name", ""),
                     "compute_capability": details.get("compute_capability")})
    try:
        from importlib.metadata import version

        cellwright_version = version("cellwright")
    except Exception:
        cellwright_version = "unknown"
    return {
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "cellwright": cellwright_version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "cpu_count": _cpu_count(),
        "gpus": gpus,
        "device": "GPU" if gpus else "CPU",
        "time": _dt.datetime.now().isoformat(timespec="seconds"),
    }


def _cpu_count() -> int | None:
    import os

    return os.cpu_count()


def _cpu_name() -> str:
    name = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return name or platform.machine()

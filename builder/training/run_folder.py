"""Run folders for the training engine: the folder itself is :mod:`builder.run_folder`; this module adds the
record of the software and devices a run used (which imports TensorFlow, so the GUI never loads it)."""

from __future__ import annotations

import datetime as _dt
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.run_folder import RunFolder, open_run_folder
from builder.run_folder import create_run_folder as _create

if TYPE_CHECKING:
    from builder.recipe import Recipe

__all__ = ["RunFolder", "collect_environment", "create_run_folder", "open_run_folder"]


def create_run_folder(runs_dir: str | Path, name: str, *, recipe: Recipe | Mapping[str, Any] | None = None,
                      split: dict[str, Any] | None = None, environment: dict[str, Any] | bool = True,
                      now: _dt.datetime | None = None) -> RunFolder:
    """:func:`builder.run_folder.create_run_folder`, with ``environment=True`` collecting versions and devices.

    ``environment``: ``True`` collects them (imports TensorFlow), a dict is written as is, ``False`` skips it.
    """
    record = collect_environment() if environment is True else (environment or None)
    return _create(runs_dir, name, recipe=recipe, split=split, environment=record, now=now)


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

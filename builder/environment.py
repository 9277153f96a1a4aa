"""What this computer offers Cellwright: versions, GPU visibility (and why not), memory, disk, weights cache.

Used by ``cellwright doctor`` and written into every run folder. Nothing here imports TensorFlow
(the GUI uses it); :mod:`builder.gpu` asks TensorFlow which GPUs it sees.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any


def keras_cache_dir() -> Path:
    """Folder where Keras keeps downloaded weights: ``$KERAS_HOME/models`` (default ``~/.keras/models``)."""
    home = os.environ.get("KERAS_HOME")
    base = Path(home) if home else Path(os.path.expanduser("~")) / ".keras"
    return base / "models"


def package_version(name: str) -> str | None:
    """Installed version of distribution ``name`` without importing it, or ``None``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def basic_environment(path: str | os.PathLike[str] = ".") -> dict[str, Any]:
    """Facts that need no TensorFlow import: Python, package versions, CPU, memory, disk."""
    import psutil

    memory = psutil.virtual_memory()
    disk = shutil.disk_usage(Path(path).resolve())
    tf_dist = next((d for d in ("tensorflow", "tensorflow-cpu", "tensorflow-macos") if package_version(d)), None)
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cellwright": package_version("cellwright"),
        "tensorflow_package": tf_dist,
        "tensorflow": package_version(tf_dist) if tf_dist else None,
        "keras": package_version("keras"),
        "numpy": package_version("numpy"),
        "cpu_count": os.cpu_count(),
        "memory_total_gb": round(memory.total / 2**30, 1),
        "memory_available_gb": round(memory.available / 2**30, 1),
        "disk_free_gb": round(disk.free / 2**30, 1),
        "disk_path": str(Path(path).resolve()),
        "keras_cache": str(keras_cache_dir()),
        "keras_cache_exists": keras_cache_dir().is_dir(),
    }


def explain_missing_gpu(*, built_with_cuda: bool, tensorflow_package: str | None, nvidia_smi: bool,
                        system: str) -> str:
    """Plain-language reason why TensorFlow sees no GPU, and what to do about it."""
    if system == "Darwin":
        return ("TensorFlow on macOS trains on the CPU (Apple GPUs need the separate tensorflow-metal plug-in). "
                "Training works, only slower.")
    if not nvidia_smi:
        return ("No NVIDIA GPU driver was found on this computer (the 'nvidia-smi' tool is missing), so training "
                "runs on the CPU. That is fine for small models; for large ones use a computer with an NVIDIA GPU "
                "and its driver installed.")
    if tensorflow_package == "tensorflow-cpu" or not built_with_cuda:
        return ("An NVIDIA driver is installed, but the TensorFlow installed here is the CPU-only build. "
                "Install the GPU build: pip install 'cellwright[gpu]' (tensorflow[and-cuda]).")
    return ("TensorFlow has GPU support and a driver is present, but no GPU is visible: check that "
            "CUDA_VISIBLE_DEVICES is not empty and that the driver is recent enough for this TensorFlow.")

"""napari reader for Cellwright run folders: test images with their ground truth and the model's predictions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from builder.run_folder import RunFolder
from gui.napari_plugin._layers import LayerData, evaluation_layers


def is_run_folder(path: str | Path) -> bool:
    """``True`` for a folder that ``cellwright train`` wrote (its recipe and saved test predictions inside)."""
    run = RunFolder(Path(path))
    return run.path.is_dir() and run.recipe_path.is_file() and run.evaluation_dir.is_dir()


def get_reader(path: str | list[str]) -> Callable[[Any], list[LayerData]] | None:
    """napari reader hook: :func:`read_run_folder` for a Cellwright run folder, ``None`` for anything else."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    return read_run_folder if is_run_folder(path) else None


def load_evaluation(path: str | Path) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """The run's saved test predictions as ``(name, arrays)`` pairs, and its class names.

    The only place where this plugin reads a run folder's files.
    """
    from builder.report.run_data import load_run

    run = load_run(path)
    return [(sample.name, sample.arrays) for sample in run.evaluation], run.class_names()


def read_run_folder(path: str | list[str]) -> list[LayerData]:
    """Layers for one run folder: ``image``, ``ground truth`` (hidden) and ``prediction``.

    Masks and instance labels are Labels layers, restored images Image layers; for classification a points
    layer writes the true and predicted class on each image. A run without saved test predictions gives
    no layers (napari then says that nothing could be read).
    """
    folder = Path(path[0] if isinstance(path, list) else path)
    samples, class_names = load_evaluation(folder)
    layers = evaluation_layers(samples, class_names)
    for _data, meta, _kind in layers:
        names = meta["name"] if isinstance(meta["name"], list) else [meta["name"]]
        meta["name"] = [f"{folder.name}: {n}" for n in names] if isinstance(meta["name"], list) else \
            f"{folder.name}: {names[0]}"
    return layers

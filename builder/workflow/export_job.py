"""Export a run folder's best model in the formats a recipe asks for (end of ``cellwright train``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from builder.run_folder import RunFolder, files


def export_run(run_dir: str | Path, *, formats: list[str], model: Any = None, out_dir: Path | None = None,
               tolerance: float | None = None, raw_test_input: np.ndarray | None = None,
               size_multiple: int | None = None) -> list[dict[str, Any]]:
    """Export the best model of ``run_dir`` into its exports folder (or ``out_dir``); when the model is loaded
    here (``model`` not given), the run's ONNX copy for prediction is brought up to date too.

    Uses the run's raw test image (or ``raw_test_input``, B,Y,X,C as the microscope gives it), its dataset
    statistics, tuned post-processing and the model's down-sampling factor (or ``size_multiple``), so the
    exported package describes exactly what the model was trained with. Runs saved before raw test images
    were kept fall back to their normalised test patch.
    """
    from builder.export.api import export_model, recipe_tolerance
    from builder.export.metadata import metadata_from_recipe
    from builder.model_files.safe_import import load_keras_safely

    run = RunFolder(Path(run_dir))
    recipe = _with_measured_diameter(run, run.read_recipe_data())
    if model is None:
        model = load_keras_safely(run.require_model_checkpoint())
        _write_onnx_copy(run, model)
    onnx_copy = _fresh_onnx_copy(run)
    overrides: dict[str, Any] = {}
    stats = _dataset_statistics(run, recipe)
    if stats:
        overrides["normalization"] = stats
    postprocess = run.read_postprocess()
    if postprocess is not None:
        overrides["postprocess"] = postprocess
    intensity = _output_intensity(run)
    if intensity:
        overrides["output_intensity"] = intensity
    factor = size_multiple or _downsampling_factor(run)
    if factor > 1:
        overrides["size_multiple"] = factor
    info = run.read_data_info()
    if info is not None and info.classes:
        overrides["class_names"] = info.classes
    raw = raw_test_input if raw_test_input is not None else run.read_raw_test_input()
    if raw is not None:
        overrides["raw_test_input"] = raw
    else:
        overrides["test_input"] = run.read_test_input()
    metadata = metadata_from_recipe(recipe, **overrides)
    from builder.tasks import get_task

    task = get_task(str(recipe.get("task")))
    companions = {name: run.path / name for name in task.companion_files(run.read_recipe())}
    return export_model(model, metadata, out_dir or run.exports_dir, formats, report=run.existing_report(),
                        tolerance=recipe_tolerance(recipe, tolerance), companions=companions,
                        onnx_copy=onnx_copy)


def _write_onnx_copy(run: RunFolder, model: Any) -> None:
    """The run's ONNX copy of its checkpoint (TensorFlow is loaded anyway), so ``predict`` starts without it; a
    network that cannot be converted is recorded and left to Keras (see :mod:`builder.workflow.onnx_cache`)."""
    from builder.workflow.onnx_cache import ensure_copy

    ensure_copy(run.path, model)


def _fresh_onnx_copy(run: RunFolder) -> Path | None:
    """The run's ONNX copy when it was made from the checkpoint as it is now (bundles carry it), else None."""
    from builder.workflow.onnx_cache import FRESH, open_copy

    checkpoint = run.model_checkpoint()
    if checkpoint is None:
        return None
    state = open_copy(run.path, checkpoint, run.read_recipe())
    return run.file(files.ONNX_COPY) if state.status == FRESH else None


def _with_measured_diameter(run: RunFolder, recipe: dict[str, Any]) -> dict[str, Any]:
    """The recipe with ``preprocess.object_diameter: auto`` replaced by the diameter training measured, so the
    exported model rescales new images without the run folder."""
    pre = recipe.get("preprocess") or {}
    record = run.read_normalization()
    scale = record.scale if record is not None else None
    if pre.get("object_diameter") != "auto" or not scale or not scale.get("object_diameter"):
        return recipe
    return {**recipe, "preprocess": {**pre, "object_diameter": float(scale["object_diameter"])}}


def _output_intensity(run: RunFolder) -> dict[str, Any]:
    """The run's record of how outputs return to intensities (image-to-image), for the exported metadata."""
    from builder.data.normalize import OUTPUT_INTENSITY_KEYS

    record = run.read_normalization()
    if record is None:
        return {}
    stored = record.to_dict()
    return {key: stored[key] for key in OUTPUT_INTENSITY_KEYS if stored.get(key)}


def _dataset_statistics(run: RunFolder, recipe: dict[str, Any]) -> Any:
    """Dataset-level normalisation statistics as export metadata (None for per-image normalisation)."""
    record = run.read_normalization()
    stored = record.normalize if record is not None else None
    if not stored:
        return None
    from builder.export.metadata import Normalization, normalization_from_recipe

    base = normalization_from_recipe((recipe.get("preprocess") or {}).get("normalize") or {})
    values = base.model_dump()
    for key in ("min", "max", "mean", "std"):
        if key in stored and stored[key] is not None:
            values[key] = [float(v) for v in np.ravel(stored[key])]
    return Normalization(**values)


def _downsampling_factor(run: RunFolder) -> int:
    try:
        return int(run.read_recipe().model.downsampling_factor())
    except Exception:  # the factor is a convenience for consumers; never fail an export on it
        return 1

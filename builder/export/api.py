"""One call per export job: the CLI, the GUI workers and the end of a training run use these."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.export.metadata import ExportMetadata, Normalization
from builder.model_files.verify import DEFAULT_TOLERANCE
from builder.run_folder import RunFolder


def recipe_tolerance(recipe: dict[str, Any], override: float | None = None) -> float:
    """``override``, else the recipe's ``export.tolerance``, else the default (one default for every caller)."""
    if override:
        return float(override)
    return float((recipe.get("export") or {}).get("tolerance") or DEFAULT_TOLERANCE)


@dataclass
class ExportSource:
    """Where a model to export comes from."""

    model_path: Path
    recipe: dict[str, Any]
    report: Path | None = None
    run: RunFolder | None = None


def find_source(path: Path, recipe_path: Path | None = None) -> ExportSource:
    """Resolve a run folder (its best checkpoint and recipe) or a ``.keras`` file plus a recipe."""
    from builder.model_files.safe_import import load_yaml

    path = Path(path)
    run = RunFolder(path) if path.is_dir() else None
    if run is not None:
        model_path = run.model_checkpoint() or run.best_checkpoint
        recipe_path = recipe_path or run.recipe_path
        report = run.existing_report()
    else:
        model_path, report = path, None
    if not model_path.is_file():
        raise ExportError(str(model_path), "No trained model found here.",
                          "Give a run folder with a finished epoch (checkpoints/), or a .keras file with --recipe.")
    if recipe_path is None or not Path(recipe_path).is_file():
        raise ExportError(str(recipe_path or path), "The recipe the model was trained with is needed for the export "
                          "(names, normalisation, credits).", "Pass --recipe path/to/recipe.yaml.")
    recipe = load_yaml(Path(recipe_path))
    if not isinstance(recipe, dict):
        raise ExportError(str(recipe_path), "Expected a recipe (a YAML mapping).", "Pass the run's recipe.yaml.")
    return ExportSource(model_path, recipe, report, run)


def synthetic_test_input(model: Any, normalization: Normalization, *, size: int = 64, seed: int = 0) -> np.ndarray:
    """A deterministic test image already in the normalised range of ``normalization``.

    Used only when no real test image is given: it checks the conversion, not the model's quality.
    """
    shape = list(model.inputs[0].shape)
    y, x, c = (dim if dim is not None else size for dim in shape[1:])
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:y, 0:x]
    base = 0.5 + 0.4 * np.sin(yy / 5.0)[..., None] * np.cos(xx / 7.0)[..., None]
    raw = base + 0.1 * rng.standard_normal((y, x, c))
    if normalization.method in ("zscore",):
        out = (raw - raw.mean(axis=(0, 1))) / raw.std(axis=(0, 1))
    elif normalization.method in ("percentile", "minmax") and normalization.per == "image":
        lo_q, hi_q = (normalization.low, normalization.high) if normalization.method == "percentile" else (0, 100)
        lo, hi = np.percentile(raw, lo_q, axis=(0, 1)), np.percentile(raw, hi_q, axis=(0, 1))
        out = (raw - lo) / (hi - lo)
    else:
        out = raw
    return out[None].astype(np.float32)


def export_model(
    model: Any,
    metadata: ExportMetadata,
    out_dir: Path,
    formats: list[str] | tuple[str, ...] = ("bundle",),
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    report: Path | None = None,
    companions: dict[str, Path] | None = None,
    onnx_copy: Path | None = None,
) -> list[dict[str, Any]]:
    """Write every requested format into ``out_dir``; each is checked right after it is written.

    ``onnx_copy``: the run's ONNX copy of ``model`` (see :mod:`builder.workflow.onnx_cache`); bundles carry it, so
    ``predict BUNDLE`` starts without TensorFlow.

    Returns
    -------
    list of dict
        One entry per format: ``format``, ``path``, ``checks`` (max abs differences) and, for bioimage.io,
        ``status``, ``warnings`` and ``consumers``.
    """
    from builder.export.metadata import require_test_input
    from builder.export.test_tensors import with_test_input
    from builder.export_registry import ExportRequest, all_formats, unknown_format_message

    registered = all_formats()
    unknown = [f for f in formats if f not in registered]
    if unknown:
        raise ExportError("--format", unknown_format_message(unknown), "Pick formats from the list.")
    for fmt in dict.fromkeys(formats):
        missing = registered[fmt].missing_needs()
        if missing:
            raise ExportError(f"--format {fmt}", f"This format needs the Python package(s) {', '.join(missing)}, "
                              "which are not installed.", "Reinstall Cellwright with its installer, or pick "
                              "another format.")
    out_dir = Path(out_dir)
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in metadata.name).strip("_") or "model"
    x = require_test_input(with_test_input(metadata), str(out_dir))
    results: list[dict[str, Any]] = []
    for fmt in formats:
        spec = registered[fmt]
        path = spec.target(out_dir, stem)
        written = spec.write(ExportRequest(model, metadata, path, x, tolerance, report, dict(companions or {}),
                                           onnx_copy))
        if not written.checks:
            raise ExportError(str(path), f"The {fmt} writer returned no check, so the export was not re-run and "
                              "compared with the Keras model.", "Report this as a bug in the export format.")
        results.append({"format": fmt, "path": str(path), "checks": [c.to_dict() for c in written.checks],
                        **written.extra})
    return results

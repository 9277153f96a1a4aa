"""One call per export job: the CLI, the GUI workers and the end of a training run use these."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.export.metadata import ExportMetadata, Normalization
from builder.export.verify import DEFAULT_TOLERANCE

FORMATS = ("bundle", "bioimageio", "onnx", "savedmodel")


@dataclass
class ExportSource:
    """Where a model to export comes from."""

    model_path: Path
    recipe: dict[str, Any]
    report: Path | None = None


def find_source(path: Path, recipe_path: Path | None = None) -> ExportSource:
    """Resolve a run folder (``checkpoints/best.keras`` + ``recipe.yaml``) or a ``.keras`` file plus recipe."""
    from builder.export.safe_import import load_yaml

    path = Path(path)
    if path.is_dir():
        model_path = path / "checkpoints" / "best.keras"
        recipe_path = recipe_path or path / "recipe.yaml"
        report = next((p for p in (path / "report.html", path / "report.pdf") if p.is_file()), None)
    else:
        model_path, report = path, None
    if not model_path.is_file():
        raise ExportError(str(model_path), "No trained model found here.",
                          "Give a run folder with checkpoints/best.keras, or a .keras file with --recipe.")
    if recipe_path is None or not Path(recipe_path).is_file():
        raise ExportError(str(recipe_path or path), "The recipe the model was trained with is needed for the export "
                          "(names, normalisation, credits).", "Pass --recipe path/to/recipe.yaml.")
    recipe = load_yaml(Path(recipe_path))
    if not isinstance(recipe, dict):
        raise ExportError(str(recipe_path), "Expected a recipe (a YAML mapping).", "Pass the run's recipe.yaml.")
    return ExportSource(model_path, recipe, report)


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
) -> list[dict[str, Any]]:
    """Write every requested format into ``out_dir``; each is checked right after it is written.

    Returns
    -------
    list of dict
        One entry per format: ``format``, ``path``, ``checks`` (max abs differences) and, for bioimage.io,
        ``status``, ``warnings`` and ``consumers``.
    """
    from builder.export.bioimageio import CONSUMERS, write_bioimageio
    from builder.export.bioimageio_descr import INPUT_ID, OUTPUT_ID
    from builder.export.bundle import write_bundle
    from builder.export.metadata import require_test_input
    from builder.export.onnx import write_onnx
    from builder.export.savedmodel import write_savedmodel

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError("--format", f"Expected one of {', '.join(FORMATS)}. Received: {', '.join(unknown)}",
                          "Pick formats from the list.")
    out_dir = Path(out_dir)
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in metadata.name).strip("_") or "model"
    x = require_test_input(metadata, str(out_dir))
    results: list[dict[str, Any]] = []
    for fmt in formats:
        if fmt == "bundle":
            path = out_dir / f"{stem}.cellwright.zip"
            checks = [write_bundle(model, metadata, path, report=report, tolerance=tolerance)]
            extra: dict[str, Any] = {}
        elif fmt == "bioimageio":
            path = out_dir / f"{stem}.bioimageio.zip"
            zoo = write_bioimageio(model, metadata, path, tolerance=tolerance)
            checks = zoo.checks
            extra = {"status": zoo.status, "warnings": zoo.warnings, "consumers": CONSUMERS}
        elif fmt == "onnx":
            path = out_dir / f"{stem}.onnx"
            checks = [write_onnx(model, path, test_input=x, input_name=INPUT_ID, output_name=OUTPUT_ID,
                                 tolerance=tolerance)]
            extra = {}
        else:
            path = out_dir / f"{stem}_savedmodel"
            checks = [write_savedmodel(model, path, test_input=x, input_name=INPUT_ID, output_name=OUTPUT_ID,
                                       tolerance=tolerance)]
            extra = {}
        results.append({"format": fmt, "path": str(path), "checks": [c.to_dict() for c in checks], **extra})
    return results

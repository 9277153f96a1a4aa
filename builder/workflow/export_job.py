"""Export a run folder's best model in the formats a recipe asks for (end of ``cellwright train``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def export_run(run_dir: str | Path, *, formats: list[str], model: Any = None, out_dir: Path | None = None,
               tolerance: float | None = None) -> list[dict[str, Any]]:
    """Export the best model of ``run_dir`` into ``run_dir/exports`` (or ``out_dir``).

    Uses the run's own normalised test patch (``test_input.npy``), its dataset statistics
    (``normalization.json``), tuned post-processing (``postprocess.json``) and the model's down-sampling factor,
    so the exported package describes exactly what the model was trained with.
    """
    import yaml

    from builder.export.api import export_model
    from builder.export.metadata import metadata_from_recipe
    from builder.export.safe_import import load_keras_safely

    run = Path(run_dir)
    recipe = yaml.safe_load((run / "recipe.yaml").read_text(encoding="utf-8"))
    if model is None:
        best = run / "checkpoints" / "best.keras"
        model = load_keras_safely(best if best.exists() else run / "checkpoints" / "last.keras")
    overrides: dict[str, Any] = {}
    test_input = None
    if (run / "test_input.npy").exists():
        test_input = np.load(run / "test_input.npy", allow_pickle=False)
    stats = _dataset_statistics(run)
    if stats:
        overrides["normalization"] = stats
    if (run / "postprocess.json").exists():
        overrides["postprocess"] = json.loads((run / "postprocess.json").read_text())
    factor = _downsampling_factor(run)
    if factor > 1:
        overrides["size_multiple"] = factor
    info_path = run / "data_info.json"
    if info_path.exists():
        classes = json.loads(info_path.read_text()).get("classes")
        if classes:
            overrides["class_names"] = list(classes)
    metadata = metadata_from_recipe(recipe, test_input=test_input, **overrides)
    report = next((p for p in (run / "report.html", run / "report.pdf") if p.is_file()), None)
    kwargs = {"tolerance": tolerance} if tolerance else {"tolerance": float(recipe.get("export", {}).get(
        "tolerance", 1e-4))}
    return export_model(model, metadata, out_dir or run / "exports", formats, report=report, **kwargs)


def _dataset_statistics(run: Path) -> Any:
    """Dataset-level normalisation statistics as export metadata (None for per-image normalisation)."""
    path = run / "normalization.json"
    if not path.exists():
        return None
    stored = json.loads(path.read_text()).get("normalize")
    if not stored:
        return None
    import yaml

    from builder.export.metadata import Normalization, normalization_from_recipe

    recipe = yaml.safe_load((run / "recipe.yaml").read_text(encoding="utf-8"))
    base = normalization_from_recipe((recipe.get("preprocess") or {}).get("normalize") or {})
    values = base.model_dump()
    for key in ("min", "max", "mean", "std"):
        if key in stored and stored[key] is not None:
            values[key] = [float(v) for v in np.ravel(stored[key])]
    return Normalization(**values)


def _downsampling_factor(run: Path) -> int:
    from builder.recipe import load_recipe

    try:
        return int(load_recipe(run / "recipe.yaml").model.downsampling_factor())
    except Exception:  # the factor is a convenience for consumers; never fail an export on it
        return 1

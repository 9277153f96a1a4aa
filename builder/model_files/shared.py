"""Open a shared model — a Cellwright bundle or a BioImage Model Zoo package — safely, and re-run its test.

Both kinds go through :mod:`builder.model_files.safe_import`: zip entries checked before extraction,
checksums verified (bundle manifest, or the SHA-256 values of the bioimage.io description), Keras
weights loaded in safe mode after a scan for Python code, NumPy files never unpickled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.model_files.bundle_reader import BUNDLE
from builder.model_files.safe_import import MANIFEST_NAME, load_keras_safely, safe_extract
from builder.model_files.verify import DEFAULT_TOLERANCE, Check, compare, keras_reference

_ZOO_NAMES = ("rdf.yaml", "bioimageio.yaml")


@dataclass
class SharedModel:
    """A shared model opened and checked."""

    kind: str  # "bundle" | "bioimageio"
    model: Any
    metadata: dict[str, Any]
    folder: Path
    recipe: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    companions: dict[str, Any] = field(default_factory=dict)  # models beside the network, by file name

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.metadata.get("name"), "task": self.metadata.get("task"),
                "folder": str(self.folder), "checks": [c.to_dict() for c in self.checks]}


def detect_kind(folder: Path) -> str:
    """``"bundle"`` or ``"bioimageio"`` from the files at the top of an extracted archive."""
    if (folder / MANIFEST_NAME).is_file() and (folder / BUNDLE.metadata).is_file():
        return "bundle"
    if any((folder / name).is_file() for name in _ZOO_NAMES):
        return "bioimageio"
    raise ExportError(str(folder), "This is neither a Cellwright bundle (MANIFEST.sha256 + metadata.json) nor a "
                      "bioimage.io package (rdf.yaml or bioimageio.yaml).",
                      "Open a .zip written by 'cellwright export' or downloaded from bioimage.io.")


def _open_zoo(folder: Path, where: str, run_test: bool, tolerance: float) -> SharedModel:
    from bioimageio.spec import InvalidDescr, load_description
    from bioimageio.spec.model import v0_5

    from builder.model_files.safe_import import load_array
    from builder.model_files.zoo_preprocessing import apply_preprocessing

    rdf = next(folder / n for n in _ZOO_NAMES if (folder / n).is_file())
    descr = load_description(rdf, perform_io_checks=True)  # checks every file's SHA-256 against the description
    if isinstance(descr, InvalidDescr):
        raise ExportError(where, f"The bioimage.io description is invalid or a file was changed:\n"
                          f"{descr.validation_summary.format()}", "Download the package again.")
    if not isinstance(descr, v0_5.ModelDescr):
        raise ExportError(where, f"Expected a bioimage.io model (format 0.5). Received: {type(descr).__name__} "
                          f"{getattr(descr, 'format_version', '')}", "Use a model package in format 0.5.")
    weights = descr.weights.keras_v3 or descr.weights.keras_hdf5
    if weights is not None:
        model = load_keras_safely(folder / _source_path(weights))
    elif descr.weights.tensorflow_saved_model_bundle is not None:
        model = _savedmodel_as_keras(folder, descr, where)
    else:
        raise ExportError(where, "This package has no Keras (keras_v3, keras_hdf5) or TensorFlow SavedModel "
                          "weights; Cellwright runs those only.", "Use a bioimage.io consumer (e.g. bioimageio.core) "
                          "for its other weights formats.")
    metadata: dict[str, Any] = {"name": descr.name, "description": descr.description, "task": None,
                                "license": str(descr.license), "authors": [a.name for a in descr.authors]}
    metadata["normalization"] = normalization_from_steps(list(descr.inputs[0].preprocessing))
    metadata["tags"] = [str(t) for t in descr.tags]
    cellwright = (descr.config.model_dump().get("cellwright") or {}) if descr.config else {}
    metadata.update({k: v for k, v in cellwright.items() if v is not None})
    checks = []
    test_in = descr.inputs[0].test_tensor if len(descr.inputs) == 1 else None
    test_out = descr.outputs[0].test_tensor if len(descr.outputs) == 1 else None
    if run_test and test_in is not None and test_out is not None:
        raw = load_array(folder / _source_path(test_in))
        expected = load_array(folder / _source_path(test_out)).astype(np.float32)
        x = apply_preprocessing(list(descr.inputs[0].preprocessing), raw)
        got = apply_preprocessing(list(descr.outputs[0].postprocessing), keras_reference(model, x))
        checks.append(compare("bioimageio (keras)", Path(where), expected, got,
                              max(tolerance, 1e-3) * _output_scale(descr)))
    return SharedModel("bioimageio", model, metadata, folder, {}, checks)


def _output_scale(descr: Any) -> float:
    """How many times larger than normalised units the package's outputs are (a restoration package's output in
    intensities, ``config.cellwright.output_scale``), so its check allows the same error in normalised units."""
    cellwright = (descr.config.model_dump().get("cellwright") or {}) if descr.config else {}
    try:
        return max(1.0, float(cellwright.get("output_scale") or 1.0))
    except (TypeError, ValueError):
        return 1.0


def _input_shape(descr: Any, where: str) -> tuple[int | None, ...]:
    """``(Y, X, C)`` of a package input whose axes are batch, y, x, channel (None for a free size)."""
    axes = list(descr.inputs[0].axes)
    kinds = [str(getattr(a, "type", "")) for a in axes]
    if kinds != ["batch", "space", "space", "channel"] or [str(a.id) for a in axes[1:3]] != ["y", "x"]:
        raise ExportError(where, f"Expected input axes batch, y, x, channel. Received: {[str(a.id) for a in axes]}",
                          "Cellwright runs 2D packages with channels last; use bioimageio.core for this one.")
    sizes = [a.size if isinstance(a.size, int) else None for a in axes[1:3]]
    return (*sizes, len(axes[3].channel_names))


def _savedmodel_as_keras(folder: Path, descr: Any, where: str) -> Any:
    """The package's TensorFlow SavedModel wrapped as a Keras model (its serving signature, one output)."""
    import keras

    source = folder / _source_path(descr.weights.tensorflow_saved_model_bundle)
    saved = safe_extract(source, folder / "_saved_model") if source.is_file() else source
    layer = keras.layers.TFSMLayer(str(saved), call_endpoint="serving_default")
    inputs = keras.Input(_input_shape(descr, where))
    out = layer(inputs)
    if isinstance(out, dict):
        if len(out) != 1:
            raise ExportError(where, f"Expected one output in the SavedModel signature. Received: {sorted(out)}",
                              "Use a package with one output tensor.")
        out = next(iter(out.values()))
    return keras.Model(inputs, out)


def normalization_from_steps(steps: list[Any]) -> dict[str, Any]:
    """A package's preprocessing steps as Cellwright normalisation settings (``ExportMetadata.normalization``).

    ``scale_range`` is a per-image percentile (or min/max) normalisation, ``zero_mean_unit_variance`` a
    per-image z-score, ``scale_linear`` and ``fixed_zero_mean_unit_variance`` fixed dataset statistics.
    """
    norm: dict[str, Any] = {"method": "none", "per": "image", "per_channel": True, "clip": False}
    for step in steps:
        kw = step.kwargs
        if step.id in ("scale_range", "zero_mean_unit_variance"):
            axes = [str(a) for a in (kw.axes or ())]
            norm["per_channel"] = "channel" not in axes if axes else False
        if step.id == "scale_range":
            low, high = float(kw.min_percentile), float(kw.max_percentile)
            norm.update(method="minmax" if (low, high) == (0.0, 100.0) else "percentile", low=low, high=high)
        elif step.id == "zero_mean_unit_variance":
            norm["method"] = "zscore"
        elif step.id == "scale_linear":
            gain, offset = np.atleast_1d(kw.gain).astype(float), np.atleast_1d(kw.offset).astype(float)
            norm.update(method="percentile", per="dataset", min=list(-offset / gain), max=list((1 - offset) / gain))
        elif step.id == "fixed_zero_mean_unit_variance":
            norm.update(method="zscore", per="dataset", mean=[float(v) for v in np.atleast_1d(kw.mean)],
                        std=[float(v) for v in np.atleast_1d(kw.std)])
        elif step.id == "clip":
            norm["clip"] = True
    return norm


def open_shared(path: Path, dest: Path, *, run_test: bool = True, tolerance: float = DEFAULT_TOLERANCE) -> SharedModel:
    """Extract (if a zip), check and load a shared model.

    Parameters
    ----------
    path : Path
        Bundle ``.zip``, bioimage.io package ``.zip``, or an extracted folder of either.
    dest : Path
        Folder to extract into (unused for a folder).
    run_test : bool
        Re-run the stored test input and compare with the stored test output.
    """
    from builder.model_files.bundle_reader import open_bundle

    path = Path(path)
    if not path.exists():
        raise ExportError(str(path), "File not found.", "Check the path.")
    folder = path if path.is_dir() else safe_extract(path, Path(dest))
    kind = detect_kind(folder)
    if kind == "bundle":
        opened = open_bundle(folder, folder, run_test=run_test, tolerance=tolerance)
        return SharedModel("bundle", opened.model, opened.metadata, folder, opened.recipe, opened.checks,
                           opened.companions)
    return _open_zoo(folder, str(path), run_test, tolerance)


def describe(shared: SharedModel) -> str:
    """A few lines for people: what was opened and how it checked out."""
    lines = [f"{shared.kind}: {shared.metadata.get('name')} (task: {shared.metadata.get('task') or 'unknown'})"]
    lines += [f"  {c.describe()}" for c in shared.checks]
    return "\n".join(lines)


def _source_path(file: Any) -> str:
    """The package-relative path of a bioimage.io file description (its ``source``)."""
    source = file.source
    return str(source.path if hasattr(source, "path") else source)

"""Read a Cellwright bundle back: extract safely, verify its checksums, load its model, re-run its test."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.model_files.safe_import import load_array, load_keras_safely, load_yaml, safe_extract, verify_manifest
from builder.model_files.verify import DEFAULT_TOLERANCE, Check, compare, keras_reference

#: Written to metadata.json as ``format``; readers refuse other values.
BUNDLE_FORMAT = "cellwright-bundle"
BUNDLE_VERSION = 1


@dataclass(frozen=True)
class BundleLayout:
    """File names inside a bundle (its own layout; a run folder's names live in :mod:`builder.run_folder`)."""

    model: str = "model.keras"
    recipe: str = "recipe.yaml"
    metadata: str = "metadata.json"
    test_input: str = "test_input.npy"
    test_output: str = "test_output.npy"
    onnx: str = "model.onnx"  # optional: the run's ONNX copy of the network, for prediction without TensorFlow


#: The one bundle layout, shared by the writer (:mod:`builder.export.bundle`) and this reader.
BUNDLE = BundleLayout()


@dataclass
class OpenedBundle:
    """A bundle read back and checked: its model, metadata, recipe and test data."""

    model: Any
    metadata: dict[str, Any]
    recipe: dict[str, Any]
    folder: Path
    test_input: np.ndarray
    test_output: np.ndarray
    checks: list[Check] = field(default_factory=list)
    companions: dict[str, Any] = field(default_factory=dict)  # metadata ``companions``: Keras models by file name



def read_bundle_parts(path: Path, dest: Path) -> tuple[Path, dict[str, Any], dict[str, Any], np.ndarray, np.ndarray]:
    """Extract and check a bundle without loading its model: ``(folder, metadata, recipe, test input, test
    output)`` (entries and checksums checked, format and version too)."""
    path = Path(path)
    folder = path if path.is_dir() else safe_extract(path, Path(dest))
    verify_manifest(folder, str(path))
    metadata = json.loads((folder / BUNDLE.metadata).read_text(encoding="utf-8"))
    if metadata.get("format") != BUNDLE_FORMAT:
        raise ExportError(str(path), f"metadata.json says format {metadata.get('format')!r}; expected "
                          f"{BUNDLE_FORMAT!r}.", "Open Cellwright bundles or bioimage.io packages only.")
    if int(metadata.get("format_version", 0)) > BUNDLE_VERSION:
        raise ExportError(str(path), f"This bundle was written by a newer Cellwright (bundle version "
                          f"{metadata['format_version']}).", "Update Cellwright.")
    recipe = load_yaml(folder / BUNDLE.recipe) or {}
    return folder, metadata, recipe, load_array(folder / BUNDLE.test_input), load_array(folder / BUNDLE.test_output)


def open_bundle(path: Path, dest: Path, *, run_test: bool = True, tolerance: float = DEFAULT_TOLERANCE) -> OpenedBundle:
    """Extract and check a bundle (entries, checksums, safe model load), optionally re-running its test.

    Parameters
    ----------
    path : Path
        Bundle ``.zip`` (or an already extracted bundle folder).
    dest : Path
        Empty folder to extract into (ignored for a folder).
    run_test : bool
        Run the model on ``test_input.npy`` and compare with ``test_output.npy``.
    """
    folder, metadata, recipe, x, y = read_bundle_parts(path, dest)
    model = load_keras_safely(folder / BUNDLE.model)
    checks = []
    if run_test:
        checks.append(compare("bundle (.keras)", path, y.astype(np.float32), keras_reference(model, x), tolerance))
    return OpenedBundle(model, metadata, recipe, folder, x, y, checks, _companions(folder, metadata, str(path)))


def _companions(folder: Path, metadata: dict[str, Any], where: str) -> dict[str, Any]:
    """The Keras models metadata.json lists as ``companions`` (checked by the manifest like every file)."""
    out = {}
    for name in metadata.get("companions") or []:
        file = folder / str(name)
        if Path(str(name)).name != str(name) or not str(name).endswith(".keras") or not file.is_file():
            raise ExportError(where, f"metadata.json lists the companion model {name!r}, which is not a .keras "
                              "file at the top of the bundle.", "Export the model again with 'cellwright export'.")
        out[str(name)] = load_keras_safely(file)
    return out

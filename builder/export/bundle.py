"""The Cellwright bundle: one ``.zip`` with everything needed to run a model on another machine.

Contents::

    model.keras         the network (Keras 3 native format)
    model.onnx          the run's ONNX copy of it, when there is one (``predict`` then needs no TensorFlow)
    recipe.yaml         the resolved recipe it was trained with
    metadata.json       name, task, axes, channel/class names, pixel size, normalisation, post-processing
    test_input.npy      a normalised test input (B,Y,X,C float32) ...
    test_output.npy     ... and the Keras model's output on it
    README.md           documentation (if given)
    report.html|pdf     the training report (if given)
    LICENSE.txt         licence identifier
    CITATION.md         authors and citations
    MANIFEST.sha256     SHA-256 of every other file (``sha256sum -c MANIFEST.sha256`` works)

The zip is written atomically and the model is reloaded from it and re-run on the test input before
the export counts as done.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.export._files import atomic_path, scratch_dir, sha256_file
from builder.export.metadata import ExportMetadata, require_test_input
from builder.model_files.bundle_reader import BUNDLE, BUNDLE_FORMAT, BUNDLE_VERSION, OpenedBundle, open_bundle
from builder.model_files.safe_import import MANIFEST_NAME, load_keras_safely
from builder.model_files.verify import DEFAULT_TOLERANCE, Check, compare, keras_reference, single_output

__all__ = ["BUNDLE_FORMAT", "BUNDLE_VERSION", "OpenedBundle", "credits_text", "open_bundle", "write_bundle"]

def credits_text(metadata: ExportMetadata) -> str:
    """Markdown block with authors, licence and citations."""
    lines = [f"# {metadata.name}", "", f"Licence: {metadata.license} (https://spdx.org/licenses/{metadata.license}.html)",
             "", "## Authors", ""]
    for author in metadata.authors or []:
        extra = ", ".join(x for x in (author.affiliation, f"ORCID {author.orcid}" if author.orcid else None) if x)
        lines.append(f"- {author.name}" + (f" ({extra})" if extra else ""))
    if not metadata.authors:
        lines.append("- (not given)")
    lines += ["", "## How to cite", ""]
    for cite in metadata.citations:
        ref = f" https://doi.org/{cite.doi}" if cite.doi else (f" {cite.url}" if cite.url else "")
        lines.append(f"- {cite.text}{ref}")
    if not metadata.citations:
        lines.append("- (no citation given)")
    return "\n".join(lines) + "\n"


def _write_manifest(folder: Path) -> None:
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    text = "".join(f"{sha256_file(folder / name)}  {name}\n" for name in names if name != MANIFEST_NAME)
    (folder / MANIFEST_NAME).write_text(text, encoding="utf-8")


def _zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())


def _environment() -> dict[str, str]:
    import keras
    import tensorflow as tf

    from builder import __version__

    return {"cellwright": __version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "numpy": np.__version__}


def _add_onnx_copy(copy: Path, target: Path, x: np.ndarray, reference: np.ndarray, tolerance: float) -> None:
    """Put the ONNX copy in the bundle when it reproduces the Keras output on the test input (else leave it out:
    the copy only makes prediction start faster)."""
    from builder.model_files.verify import run_onnx

    try:
        compare("bundle (.onnx)", target, reference, run_onnx(copy, x), tolerance)
    except Exception:  # onnxruntime raises several types; the bundle is complete without the copy
        return
    shutil.copyfile(copy, target)


def write_bundle(
    model: Any,
    metadata: ExportMetadata,
    out_path: Path,
    *,
    report: Path | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    companions: Mapping[str, Path] | None = None,
    onnx_copy: Path | None = None,
) -> Check:
    """Write a Cellwright bundle ``.zip`` and check that its model reproduces the Keras output.

    Parameters
    ----------
    model : keras.Model
        Trained single-input, single-output model.
    metadata : ExportMetadata
        Names, normalisation, credits and the test input (required).
    out_path : Path
        Target ``.zip``; replaced atomically.
    report : Path, optional
        Training report (``.html`` or ``.pdf``) to include.
    tolerance : float
        Largest allowed max absolute difference between the reloaded and the original model.
    companions : dict, optional
        ``.keras`` models the network needs beside it (e.g. a learned link scorer), by file name in the bundle;
        listed in metadata.json as ``companions``.
    onnx_copy : Path, optional
        The run's ONNX copy of ``model`` (with its prediction record); carried as ``model.onnx`` when it gives the
        Keras output on the test input within ``tolerance``, else left out (the bundle still works with Keras).

    Returns
    -------
    Check
        Measured difference of the reloaded ``model.keras``.
    """
    import yaml

    out_path = Path(out_path)
    single_output(model, str(out_path))
    x = require_test_input(metadata, str(out_path))
    reference = keras_reference(model, x)
    if report is not None and not Path(report).is_file():
        raise ExportError(str(report), "The report file to include does not exist.", "Write the report first "
                          "(cellwright report RUN_DIR) or leave it out.")
    with scratch_dir() as folder:
        model.save(folder / BUNDLE.model)
        (folder / BUNDLE.recipe).write_text(yaml.safe_dump(metadata.recipe, sort_keys=False), encoding="utf-8")
        np.save(folder / BUNDLE.test_input, x, allow_pickle=False)
        np.save(folder / BUNDLE.test_output, reference, allow_pickle=False)
        if metadata.documentation:
            (folder / "README.md").write_text(metadata.documentation, encoding="utf-8")
        if report is not None:
            shutil.copyfile(report, folder / f"report{Path(report).suffix.lower()}")
        for name, source in (companions or {}).items():
            if not Path(source).is_file():
                raise ExportError(str(source), "A model the network needs beside it is missing.",
                                  "Train the run again, or export a run that finished.")
            shutil.copyfile(source, folder / name)
        (folder / "LICENSE.txt").write_text(
            f"SPDX-License-Identifier: {metadata.license}\nhttps://spdx.org/licenses/{metadata.license}.html\n",
            encoding="utf-8",
        )
        (folder / "CITATION.md").write_text(credits_text(metadata), encoding="utf-8")
        if onnx_copy is not None and not companions:
            _add_onnx_copy(Path(onnx_copy), folder / BUNDLE.onnx, x, reference, tolerance)
        check = compare("bundle (.keras)", out_path, reference,
                        keras_reference(load_keras_safely(folder / BUNDLE.model), x), tolerance)
        info = {
            "format": BUNDLE_FORMAT,
            "format_version": BUNDLE_VERSION,
            **metadata.public_dict(),
            "input_shape": list(model.inputs[0].shape),
            "output_shape": list(model.outputs[0].shape),
            "environment": _environment(),
            "checks": [check.to_dict() | {"path": BUNDLE.model}],
            "companions": sorted(companions or {}),
        }
        (folder / BUNDLE.metadata).write_text(json.dumps(info, indent=2), encoding="utf-8")
        _write_manifest(folder)
        with atomic_path(out_path) as tmp:
            _zip_folder(folder, tmp)
    return check

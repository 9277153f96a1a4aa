"""Use a colleague's shared model as the starting point for a new recipe (``backbone: {from: bundle.zip}``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from builder.errors import ExportError


def load_shared_model(path: Path, *, run_test: bool = True) -> Any:
    """Load the Keras model of a bundle, a bioimage.io package with Keras weights, or a ``.keras`` file.

    Everything goes through the safe importer (checksums, zip-slip checks, safe mode, no pickles). The
    returned model is a fresh, trainable ``keras.Model``; the graph compiler can use it whole or take
    its layers as an encoder.

    Parameters
    ----------
    path : Path
        ``bundle.zip``, a bioimage.io ``.zip``, an extracted folder of either, or a ``.keras``/``.h5`` file.
    run_test : bool
        Re-run the stored test input first, so a damaged model is refused before training starts.

    Returns
    -------
    keras.Model
    """
    from builder.model_files.safe_import import load_keras_safely
    from builder.model_files.shared import open_shared

    path = Path(path)
    if path.suffix in (".keras", ".h5", ".hdf5") and path.is_file():
        return load_keras_safely(path)
    if not path.exists():
        raise ExportError(f"backbone.from: {path}", "The shared model file does not exist.",
                          "Give the path of a bundle .zip written by 'cellwright export' (relative to the recipe).")
    with tempfile.TemporaryDirectory(prefix="cellwright-reuse-") as tmp:
        shared = open_shared(path, Path(tmp) / "model", run_test=run_test)
        model = shared.model  # fully loaded in memory; the extracted files can go
    model.trainable = True
    return model

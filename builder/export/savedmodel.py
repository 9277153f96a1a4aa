"""TensorFlow SavedModel export whose serving signature returns ``{output_id: tensor}``.

bioimage.io consumers (bioimageio.core, deepImageJ) look outputs up by tensor id, so the one output of
the ``serving_default`` signature is keyed by it, and the input argument is named by the input id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.export._files import atomic_path
from builder.model_files.verify import DEFAULT_TOLERANCE, Check, compare, keras_reference, run_savedmodel, single_output


def write_savedmodel(
    model: Any,
    path: Path,
    *,
    test_input: np.ndarray,
    input_name: str = "input",
    output_name: str = "output",
    tolerance: float = DEFAULT_TOLERANCE,
) -> Check:
    """Write ``model`` as a SavedModel folder, reload it and compare it on ``test_input``.

    Parameters
    ----------
    model : keras.Model
        A single-input, single-output model.
    path : Path
        Target folder; written atomically (replaced if it exists).
    test_input : (B, Y, X, C) float32 ndarray
        Input the reloaded SavedModel is checked on.
    input_name, output_name : str
        Argument name of the serving signature and key of its output dictionary.
    """
    import tensorflow as tf
    from keras.export import ExportArchive

    path = Path(path)
    single_output(model, str(path))
    reference = keras_reference(model, test_input)
    spec = tf.TensorSpec((None, *tuple(model.inputs[0].shape)[1:]), tf.float32, name=input_name)

    def serve(x: Any) -> dict[str, Any]:
        return {output_name: model(x, training=False)}

    with atomic_path(path) as tmp:
        try:
            archive = ExportArchive()
            archive.track(model)
            archive.add_endpoint("serve", serve, input_signature=[spec])
            archive.write_out(str(tmp), verbose=False)
        except Exception as exc:
            raise ExportError(str(path), f"SavedModel export failed: {type(exc).__name__}: {exc}",
                              "Export as 'bundle' instead and report the problem.") from exc
        check = compare("savedmodel", path, reference, run_savedmodel(tmp, test_input, output_name), tolerance)
    return check

"""ONNX export (Keras 3 ``model.export(format="onnx")``, which uses tf2onnx), checked with onnxruntime."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.export._files import atomic_path
from builder.model_files.verify import DEFAULT_TOLERANCE, Check, compare, keras_reference, run_onnx, single_output

#: ONNX opset written; 15 is read by onnxruntime >= 1.10, deepImageJ (JDLL) and most converters.
DEFAULT_OPSET = 15


def _input_spec(model: Any, name: str) -> Any:
    import tensorflow as tf

    shape = (None, *tuple(model.inputs[0].shape)[1:])
    return tf.TensorSpec(shape, tf.float32, name=name)


def _rename_output(path: Path, output_name: str) -> None:
    """Give the ONNX graph's single output the tensor id used everywhere else."""
    import onnx

    graph_model = onnx.load(str(path))
    old = graph_model.graph.output[0].name
    if old == output_name:
        return
    for node in graph_model.graph.node:
        node.output[:] = [output_name if o == old else o for o in node.output]
        node.input[:] = [output_name if i == old else i for i in node.input]
    graph_model.graph.output[0].name = output_name
    onnx.checker.check_model(graph_model)
    onnx.save(graph_model, str(path))


def write_onnx(
    model: Any,
    path: Path,
    *,
    test_input: np.ndarray,
    input_name: str = "input",
    output_name: str = "output",
    opset: int = DEFAULT_OPSET,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Check:
    """Write ``model`` as an ONNX file and check it with onnxruntime on ``test_input``.

    Parameters
    ----------
    model : keras.Model
        A single-input, single-output model.
    path : Path
        Target ``.onnx`` file; written atomically.
    test_input : (B, Y, X, C) float32 ndarray
        Input the exported model is checked on.
    input_name, output_name : str
        Tensor names in the ONNX graph (the bioimage.io tensor ids).

    Returns
    -------
    Check
        The measured max absolute difference to the Keras output.
    """
    path = Path(path)
    single_output(model, str(path))
    reference = keras_reference(model, test_input)
    with atomic_path(path) as tmp:
        try:
            with warnings.catch_warnings():  # Keras' tf2onnx numpy-2 patch warns about np.object
                warnings.simplefilter("ignore", FutureWarning)
                model.export(str(tmp), format="onnx", verbose=False, opset_version=opset,
                             input_signature=[_input_spec(model, input_name)])
        except Exception as exc:  # tf2onnx raises many types; all mean the same thing to a user
            raise ExportError(
                str(path), f"ONNX conversion failed: {type(exc).__name__}: {exc}",
                "Some layers have no ONNX equivalent; export as 'bundle' or 'savedmodel' instead.",
            ) from exc
        _rename_output(tmp, output_name)
        check = compare("onnx", path, reference, run_onnx(tmp, test_input), tolerance)
    return check

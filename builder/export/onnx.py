"""ONNX export (Keras 3 ``model.export(format="onnx")``, which uses tf2onnx), checked with onnxruntime."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
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


#: Names of the free (dynamic) axes of 4-D and 2-D tensors, in order B,Y,X,C / B,C.
AXIS_NAMES = {4: ("batch", "y", "x", "channel"), 2: ("batch", "channel")}


def _name_axes(value_info: Any) -> None:
    """Name the dynamic dimensions of one graph input/output (tf2onnx leaves them as ``unk__NNN``)."""
    dims = value_info.type.tensor_type.shape.dim
    names = AXIS_NAMES.get(len(dims))
    if names is None:
        return
    for dim, name in zip(dims, names, strict=True):
        if not dim.HasField("dim_value"):
            dim.dim_param = name


def _finish_graph(path: Path, output_name: str, props: dict[str, str]) -> None:
    """Rename the single output to the tensor id used everywhere else, name the axes, write ``metadata_props``."""
    import onnx

    graph_model = onnx.load(str(path))
    old = graph_model.graph.output[0].name
    if old != output_name:
        for node in graph_model.graph.node:
            node.output[:] = [output_name if o == old else o for o in node.output]
            node.input[:] = [output_name if i == old else i for i in node.input]
        graph_model.graph.output[0].name = output_name
    for value_info in (*graph_model.graph.input, *graph_model.graph.output):
        _name_axes(value_info)
    del graph_model.metadata_props[:]
    for key, value in props.items():
        entry = graph_model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(graph_model)
    onnx.save(graph_model, str(path))


def onnx_properties(metadata: Any) -> dict[str, str]:
    """What a tool needs to use the file, as ``metadata_props`` (strings; lists and mappings as JSON).

    ``cellwright.normalization`` (how to scale the raw input), ``cellwright.size_multiple`` (Y and X must be a
    multiple of it), ``cellwright.postprocess``, ``cellwright.class_names``, ``cellwright.channel_names``,
    ``cellwright.task``, ``cellwright.input_layout`` (``BYXC``, float32).
    """
    import json

    if metadata is None:
        return {"cellwright.input_layout": "BYXC float32"}
    return {
        "cellwright.task": metadata.task,
        "cellwright.input_layout": "BYXC float32",
        "cellwright.normalization": json.dumps(metadata.normalization.model_dump(mode="json")),
        "cellwright.size_multiple": str(metadata.size_multiple),
        "cellwright.min_size": str(metadata.min_size or metadata.size_multiple),
        "cellwright.postprocess": json.dumps(metadata.postprocess, default=str),
        "cellwright.class_names": json.dumps(metadata.class_names),
        "cellwright.channel_names": json.dumps(metadata.channel_names),
        "cellwright.pixel_size_um": "" if metadata.pixel_size is None else str(metadata.pixel_size),
    }


def write_onnx(
    model: Any,
    path: Path,
    *,
    test_input: np.ndarray,
    input_name: str = "input",
    output_name: str = "output",
    opset: int = DEFAULT_OPSET,
    tolerance: float = DEFAULT_TOLERANCE,
    metadata: Any = None,
    properties: Mapping[str, str] | None = None,
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
    metadata : ExportMetadata, optional
        Written to the file's ``metadata_props`` (see :func:`onnx_properties`).
    properties : mapping of str to str, optional
        More ``metadata_props`` entries (e.g. the prediction record of a run's ONNX copy).

    Returns
    -------
    Check
        The measured max absolute difference to the Keras output.
    """
    path = Path(path)
    single_output(model, str(path))
    reference = keras_reference(model, test_input)
    with atomic_path(path) as tmp:
        for attempt in range(1, CONVERSION_ATTEMPTS + 1):
            _convert(model, tmp, path, input_name, opset)
            _finish_graph(tmp, output_name, {**onnx_properties(metadata), **dict(properties or {})})
            try:
                return compare("onnx", path, reference, run_onnx(tmp, test_input), tolerance)
            except ExportError:
                if attempt == CONVERSION_ATTEMPTS:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


#: Conversions tried before an ONNX file that does not reproduce the Keras output is reported. tf2onnx 1.17 is not
#: deterministic: 9 of 91 conversions of a two-convolution network dropped the final Squeeze (output
#: (1, 1, Y, X, C) for (1, Y, X, C)), whereas converting the same model again was right.
CONVERSION_ATTEMPTS = 5


def _convert(model: Any, tmp: Path, path: Path, input_name: str, opset: int) -> None:
    """``model.export(format="onnx")`` to ``tmp``; a failure is an ExportError naming ``path``."""
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

"""Run an exported model on the test input and compare it with the Keras model it came from.

Every writer calls :func:`compare` right after writing; a difference above the tolerance is an
:class:`~builder.errors.ExportError`, so a broken export is never left looking usable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.model_files.defaults import DEFAULT_TOLERANCE

__all__ = ["DEFAULT_TOLERANCE", "Check", "compare", "keras_reference", "run_keras_file", "run_onnx",
           "run_savedmodel", "single_output"]



@dataclass(frozen=True)
class Check:
    """Result of running one exported artefact on the test input."""

    format: str
    path: str
    max_abs_diff: float
    tolerance: float

    def describe(self) -> str:
        return f"{self.format}: max |difference| vs Keras = {self.max_abs_diff:.3g} (tolerance {self.tolerance:g})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def single_output(model: Any, where: str) -> None:
    """Raise :class:`ExportError` unless ``model`` has exactly one input and one output tensor."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ExportError(
            where,
            f"Expected a model with one input and one output. Received: {len(model.inputs)} input(s), "
            f"{len(model.outputs)} output(s).",
            "Export the trained Cellwright model; multi-input or multi-output models are not supported yet.",
        )


def keras_reference(model: Any, x: np.ndarray) -> np.ndarray:
    """Output of the in-memory Keras ``model`` on ``x`` (inference mode)."""
    out = model(x, training=False)
    return np.asarray(out, dtype=np.float32)


def run_keras_file(path: Path, x: np.ndarray) -> np.ndarray:
    """Reload a ``.keras`` (or ``.h5``) file in safe mode and run it on ``x``."""
    from builder.model_files.safe_import import load_keras_safely

    return keras_reference(load_keras_safely(Path(path)), x)


def run_onnx(path: Path, x: np.ndarray) -> np.ndarray:
    """Run an ONNX file with onnxruntime (CPU) on ``x``."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: x})[0], dtype=np.float32)


def run_savedmodel(path: Path, x: np.ndarray, output_id: str | None = None) -> np.ndarray:
    """Reload a SavedModel folder and call its ``serving_default`` signature on ``x``."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    fn = loaded.signatures["serving_default"]
    _, kwargs = fn.structured_input_signature
    input_name = next(iter(kwargs))
    result = fn(**{input_name: tf.constant(x)})
    key = output_id if output_id is not None else next(iter(result))
    if key not in result:
        raise ExportError(
            str(path),
            f"The serving signature has no output named {key!r}. Received: outputs={sorted(result)}",
            "Export the SavedModel again with Cellwright.",
        )
    return np.asarray(result[key], dtype=np.float32)


def compare(fmt: str, path: Path, reference: np.ndarray, output: np.ndarray, tolerance: float) -> Check:
    """Compare an exported model's output with the Keras reference; raise if it is off.

    Raises
    ------
    ExportError
        When shapes differ, values are not finite, or the max absolute difference exceeds ``tolerance``.
    """
    if output.shape != reference.shape:
        raise ExportError(
            str(path),
            f"The exported {fmt} model gives an output of shape {output.shape}; the Keras model gives "
            f"{reference.shape} for the same test input.",
            "This is a conversion problem; please report it with the recipe attached.",
        )
    if not np.all(np.isfinite(output)):
        raise ExportError(str(path), f"The exported {fmt} model gives NaN or infinite values on the test input.",
                          "Check the trained model first (cellwright evaluate); then report the problem.")
    diff = float(np.max(np.abs(output.astype(np.float64) - reference.astype(np.float64)))) if output.size else 0.0
    check = Check(format=fmt, path=str(path), max_abs_diff=diff, tolerance=float(tolerance))
    if diff > tolerance:
        raise ExportError(
            str(path),
            f"The exported {fmt} model differs from the Keras model by up to {diff:.3g} on the test input "
            f"(allowed: {tolerance:g}).",
            "Raise export.tolerance if this difference is harmless for your use, or report the problem.",
        )
    return check

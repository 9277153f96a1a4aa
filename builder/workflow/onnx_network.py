"""A trained network run by ONNX Runtime: everything prediction asks of a Keras model, without TensorFlow.

Prediction needs from the network only its input and output shapes (channels, a classifier's fixed input size),
how far it looks around each pixel (:class:`~builder.workflow.receptive_field.NetworkReach`, for the tile overlap
and the memory estimate) and a forward pass. An ONNX copy of a checkpoint carries the first two as a JSON record
in its ``metadata_props`` (:data:`RECORD_KEY`), measured on the Keras graph when the copy was written
(:mod:`builder.workflow.onnx_cache`); :class:`OnnxNetwork` gives them back under the names the prediction code
reads (``inputs[0].shape``, ``outputs[0].shape``, ``input_shape``) and runs batches with ``predict_on_batch``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from builder.workflow.coarse_network import RECORD_OUTPUT_GRID
from builder.workflow.receptive_field import RECORDED_REACH_ATTR, NetworkReach

#: The engines ``predict --engine`` offers: ``auto`` (ONNX when a fresh copy exists, else Keras), ``onnx``, ``keras``.
ENGINE_AUTO, ENGINE_ONNX, ENGINE_KERAS = "auto", "onnx", "keras"
ENGINES = (ENGINE_AUTO, ENGINE_ONNX, ENGINE_KERAS)
#: ``metadata_props`` key of the record (JSON) that an ONNX copy of a checkpoint carries.
RECORD_KEY = "cellwright.prediction_record"
#: Version of that record; a copy with another version is made again (2: a grid network's copy leaves out its
#: final repeat, see :mod:`builder.workflow.coarse_network`, which version 1 readers would not know).
RECORD_VERSION = 2
#: Keys every record has.
RECORD_FIELDS = ("version", "checkpoint", "input_shape", "output_shape", "reach")


@dataclass(frozen=True)
class RecordedTensor:
    """A graph input or output as prediction sees it: its shape, None for free dimensions (batch, Y, X)."""

    shape: tuple[int | None, ...]


def _shape(value: Any) -> tuple[int | None, ...]:
    return tuple(None if v is None else int(v) for v in value)


def check_record(record: Any) -> dict[str, Any]:
    """``record`` when it is a complete prediction record; else ValueError naming what is missing."""
    if not isinstance(record, dict):
        raise ValueError(f"the record is a {type(record).__name__}, not a JSON object")
    missing = [key for key in RECORD_FIELDS if key not in record]
    if missing:
        raise ValueError(f"the record lacks {', '.join(missing)}")
    return record


class OnnxNetwork:
    """An ONNX Runtime session that stands in for the Keras model in prediction.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
    record : dict
        The prediction record (:data:`RECORD_FIELDS`) the file carries.
    path : str
        The ``.onnx`` file (for messages).
    """

    engine = ENGINE_ONNX

    def __init__(self, session: Any, record: dict[str, Any], path: str = "") -> None:
        record = check_record(record)
        self.session = session
        self.record = record
        self.path = path
        self.inputs = [RecordedTensor(_shape(record["input_shape"]))]
        self.outputs = [RecordedTensor(_shape(record["output_shape"]))]
        reach = record["reach"]
        setattr(self, RECORDED_REACH_ATTR,
                NetworkReach(int(reach["field"]), bool(reach["local"]), float(reach["bytes_per_pixel"])))
        self._input_name = session.get_inputs()[0].name
        #: The repeat of each output pixel that the graph leaves out (see :mod:`builder.workflow.coarse_network`).
        self.output_grid = max(1, int(record.get(RECORD_OUTPUT_GRID, 1) or 1))

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        return self.inputs[0].shape

    @property
    def output_shape(self) -> tuple[int | None, ...]:
        return self.outputs[0].shape

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        """The network's output for a ``(B, Y, X, C)`` float32 batch (the first output of the graph), each pixel
        repeated :attr:`output_grid` times along Y and X where the graph leaves that repeat out (as Keras gives
        it)."""
        out = self.predict_coarse(batch)
        if self.output_grid > 1:
            out = np.repeat(np.repeat(out, self.output_grid, axis=1), self.output_grid, axis=2)
        return out

    def predict_coarse(self, batch: np.ndarray) -> np.ndarray:
        """The graph's own output: before the repeat of :attr:`output_grid` (``(B, Y / g, X / g, K)``)."""
        out = self.session.run(None, {self._input_name: np.ascontiguousarray(batch, dtype=np.float32)})
        return np.asarray(out[0], dtype=np.float32)


def open_onnx_network(path: str) -> OnnxNetwork:
    """Open an ONNX copy written by :mod:`builder.workflow.onnx_cache` with ONNX Runtime (CPU).

    Raises
    ------
    ImportError
        onnxruntime is not installed.
    Exception
        Whatever ONNX Runtime raises for a file it cannot read (several types), or ValueError/KeyError for a file
        without a complete record; the caller turns them into a log line and uses Keras.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: a stale or damaged copy is reported by the caller, once
    # ONNX Runtime's default thread spinning is kept: turning it off (to leave the CPU to the reading and
    # post-processing threads) made a 1024x1344 image 1.4-1.7x slower on 2 quiet cores (bench_predict_speed.py)
    session = onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    props = session.get_modelmeta().custom_metadata_map
    if RECORD_KEY not in props:
        raise ValueError(f"the file carries no {RECORD_KEY} record")
    return OnnxNetwork(session, check_record(json.loads(props[RECORD_KEY])), path)

"""The ONNX copy of a run's checkpoint: prediction without TensorFlow, as a cache nobody has to manage.

Whenever TensorFlow is loaded anyway with the run's model in memory (the end of ``cellwright train``,
``cellwright export``, a ``predict`` that had to use Keras), :func:`ensure_copy` writes ``model.onnx`` into the
run folder (atomically, checked against Keras on a test input), carrying a prediction record: the checkpoint's
name, size, modification time and SHA-256, the network's input and output shapes and its receptive field
(:class:`~builder.workflow.receptive_field.NetworkReach`). :func:`open_copy` opens it with ONNX Runtime
without importing TensorFlow, but only when it was made from the checkpoint as it is now: a retrained, resumed or
replaced checkpoint makes it *stale* and prediction uses Keras (and writes a fresh copy). A network that cannot be
converted (a layer the converter does not know) is recorded once in ``model_onnx.json`` and predicted with Keras
from then on; the cache never fails a prediction.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.events import EventSink, make_event
from builder.model_files.safe_import import sha256_file
from builder.run_folder import RunFolder, files
from builder.workflow.onnx_network import RECORD_KEY, RECORD_VERSION, OnnxNetwork

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: What :func:`open_copy` found: a copy to use, or why prediction uses Keras.
FRESH, MISSING, STALE, DAMAGED, IMPOSSIBLE, UNAVAILABLE, UNSUPPORTED = (
    "fresh", "missing", "stale", "damaged", "impossible", "unavailable", "unsupported")
#: States in which a Keras prediction writes a fresh copy afterwards.
REWRITE = (MISSING, STALE, DAMAGED)


@dataclass(frozen=True)
class CopyState:
    """The ONNX copy of one checkpoint: ``status`` (one of the names above), why in words, the opened network."""

    status: str
    reason: str
    network: OnnxNetwork | None = None


def fingerprint(checkpoint: Path) -> dict[str, Any]:
    """What identifies a checkpoint file: name, size, modification time (ns) and SHA-256."""
    stat = Path(checkpoint).stat()
    return {"name": Path(checkpoint).name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "sha256": sha256_file(Path(checkpoint))}


def same_checkpoint(recorded: Any, checkpoint: Path) -> bool:
    """True when ``checkpoint`` is the file ``recorded`` describes (same size, and same modification time or,
    for a copied run folder, same SHA-256)."""
    if not isinstance(recorded, Mapping) or not Path(checkpoint).is_file():
        return False
    stat = Path(checkpoint).stat()
    if recorded.get("size") != stat.st_size:
        return False
    return recorded.get("mtime_ns") == stat.st_mtime_ns or recorded.get("sha256") == sha256_file(Path(checkpoint))


def unsupported_reason(recipe: Recipe) -> str | None:
    """Why this recipe's model is always predicted with Keras (None when an ONNX copy can serve it)."""
    from builder.tasks import get_task

    task = get_task(recipe.task)
    if task.time_lapse or task.companion_files(recipe):
        return (f"the {recipe.task} task predicts with more than the network (a segmenter or companion models), "
                "so it runs with Keras")
    return None


def open_copy(run_dir: Path, checkpoint: Path, recipe: Recipe) -> CopyState:
    """The run's ONNX copy of ``checkpoint``, opened, when it is fresh; else why not. Never imports TensorFlow."""
    run = RunFolder(Path(run_dir))
    path = run.file(files.ONNX_COPY)
    reason = unsupported_reason(recipe)
    if reason is not None:
        return CopyState(UNSUPPORTED, reason)
    note = run.read_json_or_note(files.ONNX_COPY_NOTE)[0]
    # a note from another record version is tried again (e.g. a tolerance that has since changed)
    if isinstance(note, dict) and note.get("version") == RECORD_VERSION and same_checkpoint(note.get("checkpoint"),
                                                                                               checkpoint):
        return CopyState(IMPOSSIBLE, f"this network cannot be converted to ONNX ({note.get('reason', 'unknown')})")
    if not path.is_file():
        return CopyState(MISSING, f"the run has no ONNX copy of {checkpoint.name} yet ({path.name})")
    if importlib.util.find_spec("onnxruntime") is None:
        return CopyState(UNAVAILABLE, "onnxruntime is not installed")
    from builder.workflow.onnx_network import open_onnx_network

    try:
        network = open_onnx_network(str(path))
    except Exception as error:  # ONNX Runtime raises several types for a damaged file; all mean "use Keras"
        first = (str(error).strip().splitlines() or [""])[0][:200]
        return CopyState(DAMAGED, f"{path.name} could not be read ({type(error).__name__}: {first})")
    record = network.record
    made_from = (record.get("checkpoint") or {}).get("name") if isinstance(record.get("checkpoint"), dict) else None
    if made_from and made_from != checkpoint.name:
        return CopyState(STALE, f"{path.name} is a copy of {made_from}, not of {checkpoint.name}")
    if record.get("version") != RECORD_VERSION:
        return CopyState(STALE, f"{path.name} was written by another version of Cellwright (record version "
                         f"{record.get('version')}, now {RECORD_VERSION})")
    if not same_checkpoint(record.get("checkpoint"), checkpoint):
        return CopyState(STALE, f"{path.name} was made from another version of {checkpoint.name} (the checkpoint "
                         "changed since)")
    return CopyState(FRESH, f"{path.name}, the ONNX copy of {checkpoint.name}", network)


def prediction_record(model: Any, recipe: Recipe, checkpoint: Path) -> dict[str, Any]:
    """The record an ONNX copy carries: the checkpoint's fingerprint and what prediction needs of the graph."""
    from builder.workflow.receptive_field import network_reach

    reach = network_reach(model)
    return {"version": RECORD_VERSION, "checkpoint": fingerprint(checkpoint),
            "input_shape": [None if d is None else int(d) for d in tuple(model.inputs[0].shape)],
            "output_shape": [None if d is None else int(d) for d in tuple(model.outputs[0].shape)],
            "reach": {"field": reach.field, "local": reach.local, "bytes_per_pixel": reach.bytes_per_pixel},
            "downsampling": _factor(recipe)}


def _factor(recipe: Recipe) -> int:
    from builder.workflow.inference import downsampling_factor

    return downsampling_factor(recipe)


def _test_input(model: Any, recipe: Recipe) -> np.ndarray:
    """A normal random ``(1, Y, X, C)`` input the copy is checked on: the model's fixed size, else at least 32 px
    and two down-sampling steps."""
    shape = tuple(model.inputs[0].shape)
    factor = _factor(recipe)
    side = factor * math.ceil(max(32, 2 * factor) / factor)
    size = (shape[1] or side, shape[2] or side)
    return np.random.default_rng(0).normal(0, 1, (1, *size, shape[3] or 1)).astype(np.float32)


def write_copy(run_dir: Path, model: Any, recipe: Recipe, checkpoint: Path) -> Path:
    """Write ``model.onnx`` for ``model`` (loaded from ``checkpoint``), checked against Keras; for a network that
    ends by repeating each pixel (the U-Net's ``grid``), the graph before that repeat.

    Raises
    ------
    ExportError
        The network cannot be converted, or the copy's output differs from Keras.
    """
    from builder.export.onnx import write_onnx
    from builder.workflow.coarse_network import RECORD_OUTPUT_GRID, coarse_keras_model, output_repeat

    path = RunFolder(Path(run_dir)).file(files.ONNX_COPY)
    record = prediction_record(model, recipe, checkpoint)
    repeat = output_repeat(model)
    if repeat > 1:  # the graph leaves the final repeat out; OnnxNetwork repeats where asked for the whole output
        record[RECORD_OUTPUT_GRID] = repeat
    graph, test_input = coarse_keras_model(model), _test_input(model, recipe)
    write_onnx(graph, path, test_input=test_input, tolerance=copy_tolerance(graph, test_input),
               properties={RECORD_KEY: json.dumps(record)})
    return path


def copy_tolerance(model: Any, test_input: np.ndarray) -> float:
    """The largest difference to Keras a copy may show on ``test_input``: the export default (1e-4) for outputs
    up to 1 (probabilities, normalised intensities), in proportion for larger ones. Ray lengths of a star-convex
    network reach hundreds of pixels on the random test input, where float32 rounding in another order of
    operations gave 1.6e-4 (a relative 6e-7) and refused a copy that predicts the same labels."""
    from builder.model_files.verify import DEFAULT_TOLERANCE, keras_reference

    largest = float(np.max(np.abs(keras_reference(model, test_input)), initial=0.0))
    return DEFAULT_TOLERANCE * max(1.0, largest)


def ensure_copy(run_dir: Path, model: Any, *, recipe: Recipe | None = None, checkpoint: Path | None = None,
                events: EventSink | None = None) -> CopyState:
    """Make the run's ONNX copy of ``checkpoint`` (default: the run's model checkpoint) unless a fresh one exists.

    ``model`` must be that checkpoint, loaded. A conversion that fails is recorded (``model_onnx.json``) and said
    once as a warning; nothing is raised.
    """
    from builder.errors import ExportError

    run = RunFolder(Path(run_dir))
    recipe = recipe or run.read_recipe()
    checkpoint = checkpoint or run.model_checkpoint()
    if checkpoint is None or unsupported_reason(recipe) is not None:
        return CopyState(UNSUPPORTED, "no checkpoint" if checkpoint is None else str(unsupported_reason(recipe)))
    state = open_copy(run.path, checkpoint, recipe)
    if state.status in (FRESH, IMPOSSIBLE):
        return CopyState(state.status, state.reason)  # the opened session is not needed here
    note = run.file(files.ONNX_COPY_NOTE)
    try:
        path = write_copy(run.path, model, recipe, checkpoint)
    except (ExportError, OSError) as error:
        reason = error.what if isinstance(error, ExportError) else f"{type(error).__name__}: {error}"
        copy = run.file(files.ONNX_COPY)
        if isinstance(error, ExportError):
            with contextlib.suppress(OSError):  # a read-only run folder: said again next time, still harmless
                run.write_json(files.ONNX_COPY_NOTE, {"version": RECORD_VERSION, "checkpoint": fingerprint(checkpoint),
                                                      "reason": reason})
                copy.unlink(missing_ok=True)
        if events is not None:
            events(make_event("warning", where=str(copy), what=f"No ONNX copy of the model: {reason}",
                              message=f"No ONNX copy of the model: {reason}",
                              fix="Nothing to do: prediction uses TensorFlow/Keras instead (its start-up takes a "
                                  "few seconds longer)."))
        return CopyState(IMPOSSIBLE, reason)
    with contextlib.suppress(OSError):
        note.unlink(missing_ok=True)
    if events is not None:
        events(make_event("log", message=f"ONNX copy of {checkpoint.name} written ({path.name}): predictions start "
                          "without TensorFlow."))
    return CopyState(FRESH, f"{path.name} written")


def refresh_after_keras(source: Any, events: EventSink | None = None) -> CopyState | None:
    """After a prediction that used Keras because the run's copy was missing, stale or damaged (TensorFlow is
    loaded then anyway), write a fresh copy so the next prediction starts without TensorFlow. None when there was
    nothing to do (``--engine keras``, ONNX used, a bundle, a network that cannot be converted)."""
    if source.engine != "keras" or source.onnx_copy not in REWRITE or source.run_dir is None:
        return None
    own = RunFolder(Path(source.run_dir)).model_checkpoint()
    if own is None or Path(source.path).resolve() != own.resolve():
        return None  # another checkpoint of the run (e.g. last.keras) given by hand: keep the copy of the best
    state = ensure_copy(source.run_dir, source.model, recipe=source.recipe, checkpoint=source.path, events=events)
    source.onnx_copy = state.status  # a long-lived worker does this once per model
    return state

"""A long-lived prediction worker: ``cellwright serve``.

The app starts it once and sends it one JSON line per prediction request on stdin; the worker answers with the
usual ``predict`` JSON-lines events on stdout, each tagged with the request's ``request`` id, and ends every
request with exactly one ``done`` event (``job="predict"``, ``code``: 0 predicted, 1 some files skipped,
2 a problem the user can fix, 3 a bug). The model is loaded once (from the run's ONNX copy when it is fresh, so
TensorFlow is never imported: see :mod:`builder.workflow.onnx_cache`; else TensorFlow is imported and the network's
``tf.function`` traces are made once), then reused by every request with the same model; a request naming another
model (or a checkpoint rewritten since) loads that one instead. One request that fails (a bad image, an output
folder in the way, even a bug) is reported for that request, and the worker keeps serving.

Request (one JSON object per line)::

    {"id": "r1", "model": "runs/nuclei-20260101", "images": ["a.tif"], "out": "predictions/x",
     "force": true, "channels": ["green"], "project": "max", "diameter": 25,
     "probabilities": false, "shape_measurements": false}

Only ``images`` and ``out`` are required (``model`` too, unless the worker was started with one). A line
``{"stop": true}`` or the end of stdin ends the worker.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import CellwrightError
from builder.events import EventSink, make_event

#: Keys a request may have, with the ``predict_paths`` keyword each feeds (None: handled by the server).
REQUEST_KEYS = {"id": None, "model": None, "images": None, "out": None, "force": "force", "channels": "channels",
                "project": "project", "diameter": "diameter", "probabilities": "probabilities",
                "shape_measurements": "shape_measurements"}
#: ``code`` of a request's ``done`` event.
CODE_OK, CODE_SKIPPED, CODE_USER_ERROR, CODE_BUG = 0, 1, 2, 3


def _request_error(what: str, received: str, fix: str) -> CellwrightError:
    return CellwrightError("prediction request", what, fix, received=received)


def parse_request(line: str) -> dict[str, Any]:
    """One request line as a dict, checked: known keys, ``images`` a non-empty list, ``out`` a string.

    Raises
    ------
    CellwrightError
        Naming the key that is wrong, what was expected and what was received.
    """
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        raise _request_error("Expected one JSON object per line.", f"{line.strip()[:120]!r} ({error.msg})",
                             "Send requests as JSON lines, e.g. {\"images\": [\"a.tif\"], \"out\": \"out\"}.") from None
    if not isinstance(request, dict):
        raise _request_error("Expected a JSON object.", f"{type(request).__name__}", "Send one object per line.")
    unknown = sorted(set(request) - set(REQUEST_KEYS) - {"stop"})
    if unknown:
        raise _request_error(f"Unknown key(s) {', '.join(unknown)}.", f"keys={sorted(request)}",
                             f"Use only {', '.join(REQUEST_KEYS)}.")
    if request.get("stop"):
        return request
    images = request.get("images")
    if not isinstance(images, list) or not images or not all(isinstance(p, str) for p in images):
        raise _request_error("Expected `images`: a non-empty list of file or folder paths.", f"images={images!r}",
                             "List the images to predict.")
    if not isinstance(request.get("out"), str) or not request["out"]:
        raise _request_error("Expected `out`: the output folder.", f"out={request.get('out')!r}",
                             "Name the folder the predictions go to.")
    return request


def _request_id(line: str) -> Any:
    """The ``id`` of a request line that was refused, when it can be read (None otherwise)."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value.get("id") if isinstance(value, dict) else None


def _model_key(path: Path) -> tuple[str, float]:
    """What identifies a loaded model: the resolved path and the newest modification time of the files it was
    read from (for a run folder: checkpoint, recipe, normalisation and tuned post-processing)."""
    from builder.run_folder import RunFolder

    path = path.resolve()
    read = [path]
    if path.is_dir():
        run = RunFolder(path)
        read = [run.model_checkpoint() or path, run.recipe_path, run.postprocess_path, run.normalization_path]
    stamps = [p.stat().st_mtime for p in read if p.exists()]
    return str(path), max(stamps, default=0.0)


@dataclass
class PredictServer:
    """Keeps one model open and predicts request after request with it.

    Parameters
    ----------
    events : callable
        Receives every event (the CLI writes them as JSON lines).
    model : str or Path, optional
        The model for requests that name none (loaded on the first request).
    engine : {'auto', 'onnx', 'keras'}
        What runs the network (see :func:`builder.workflow.model_source.open_model_source`); the
        ``model_loaded`` event says which did.
    """

    events: EventSink
    model: str | Path | None = None
    engine: str = "auto"
    loads: int = 0
    _source: Any = None
    _key: tuple[str, float] | None = None
    _opened: Callable[[Path], Any] | None = field(default=None, repr=False)

    def source_for(self, model: str | Path | None) -> Any:
        """The opened model for ``model`` (this server's own when None), loading it only when it changed."""
        from builder.workflow.model_source import open_model_source

        chosen = model or self.model
        if not chosen:
            raise _request_error("No model given.", "model=None", "Name the run folder, .keras file or bundle "
                                 "in the request's `model`, or start the worker with one.")
        key = _model_key(Path(chosen))
        if self._source is None or key != self._key:
            self._source = None  # free the old model before loading the new one
            t0 = time.perf_counter()
            self._source = open_model_source(chosen, engine=self.engine)
            self._key = key
            self.loads += 1
            seconds = time.perf_counter() - t0
            engine = "ONNX Runtime" if self._source.engine == "onnx" else "Keras/TensorFlow"
            self.events(make_event("log", job="serve", kind="model_loaded", model=str(chosen), loads=self.loads,
                                   seconds=round(seconds, 3), engine=self._source.engine,
                                   message=f"Model loaded from {chosen} in {seconds:.1f} s ({engine}: "
                                           f"{self._source.engine_reason})."))
        return self._source

    def handle(self, request: dict[str, Any]) -> int:
        """Predict one request; every event carries its id, and it ends with one ``done`` event.

        Returns the request's ``code`` (see the module docstring).
        """
        from builder.workflow.predict_job import predict_paths

        rid = request.get("id")

        def tagged(event: dict[str, Any]) -> None:
            if event.get("event") != "done":  # the server sends the request's one done event itself
                self.events({**event, "request": rid})

        t0 = time.perf_counter()
        code, extra = CODE_OK, {}
        try:
            source = self.source_for(request.get("model"))
            options = {arg: request[key] for key, arg in REQUEST_KEYS.items() if arg and key in request}
            summary = predict_paths(source, request["images"], request["out"], events=tagged, **options)
            code = CODE_SKIPPED if summary["skipped"] else CODE_OK
            extra = {"out_dir": summary["out_dir"], "n_images": summary["n_images"],
                     "n_skipped": len(summary["skipped"]), "engine": summary["engine"]}
        except CellwrightError as error:
            code = CODE_USER_ERROR
            tagged(make_event("error", **error.to_dict()))
        except Exception as error:  # a bug: reported for this request with its traceback; the worker goes on
            code = CODE_BUG
            tagged(make_event("error", type=type(error).__name__, what=str(error), where="", fix="",
                              traceback=traceback.format_exc()))
        self.events(make_event("done", job="predict", request=rid, code=code, loads=self.loads,
                               seconds=round(time.perf_counter() - t0, 3), **extra))
        if self._source is not None and code in (CODE_OK, CODE_SKIPPED):
            self._refresh_copy()
        return code

    def _refresh_copy(self) -> None:
        """After a request answered with Keras because the run's ONNX copy was missing or stale, write a fresh
        one (the next worker starts without TensorFlow); never fails the worker."""
        from builder.workflow.onnx_cache import refresh_after_keras

        try:
            refresh_after_keras(self._source, self.events)
        except Exception as error:  # the copy is a convenience: a failure to write it is logged, not raised
            self.events(make_event("log", job="serve", message=f"The ONNX copy of the model was not written "
                                   f"({type(error).__name__}: {error})."))

    def serve(self, lines: Iterable[str]) -> int:
        """Answer every request line until ``{"stop": true}`` or the end of ``lines``; returns 0."""
        self.events(make_event("start", job="serve", pid=os.getpid(), model=str(self.model or "")))
        if self.model:
            try:
                self.source_for(None)  # load now: the first request does not wait for it
            except CellwrightError as error:
                self.events(make_event("error", **error.to_dict()))
        for line in lines:
            if not line.strip():
                continue
            try:
                request = parse_request(line)
            except CellwrightError as error:
                rid = _request_id(line)
                self.events(make_event("error", request=rid, **error.to_dict()))
                self.events(make_event("done", job="predict", request=rid, code=CODE_USER_ERROR, loads=self.loads))
                continue
            if request.get("stop"):
                break
            self.handle(request)
        return 0

"""``cellwright serve``: a prediction worker that keeps the model loaded between requests (used by the app)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "serve"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Keep a model loaded and predict requests read from stdin (JSON lines; used by the app).",
        description="Reads one JSON request per line on stdin, e.g. {\"id\": \"r1\", \"images\": [\"a.tif\"], "
        "\"out\": \"predictions\", \"force\": true} (optional keys: model, channels, project, diameter, "
        "probabilities, shape_measurements: as for 'cellwright predict'), and answers with predict's JSON-lines "
        "events, each carrying the request id; every request ends with one 'done' event whose code is 0 "
        "(predicted), 1 (files skipped), 2 (a problem to fix, named in the 'error' event before it) or 3 (a bug). "
        "The model is loaded once: from the run's ONNX copy when it is fresh (no TensorFlow start-up; see --engine), "
        "else with TensorFlow. A failed request does not stop the worker; "
        "{\"stop\": true} or the end of stdin does.",
    )
    parser.add_argument("model", type=Path, nargs="?",
                        help="Run folder, .keras file or bundle .zip to load at once (requests may name another).")
    parser.add_argument("--engine", choices=("auto", "onnx", "keras"), default="auto",
                        help="What runs the network: auto (default) uses the run's ONNX copy when it was made from "
                        "the current checkpoint (no TensorFlow start-up), else Keras; onnx insists on the copy; "
                        "keras never uses it.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from builder.events import json_lines_sink
    from builder.workflow.predict_server import PredictServer

    return PredictServer(json_lines_sink(), model=args.model, engine=args.engine).serve(sys.stdin)

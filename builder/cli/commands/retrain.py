"""``cellwright retrain RUN``: fine-tune the current model on checked annotations; the guard set decides."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "retrain"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Fine-tune a trained model on the annotations made or checked since; keep it only if it is "
        "not worse on the guard set.",
        description="Starts a new run from RUN's best model and recipe. Training uses the annotations a person "
        "made or checked (proposed, unchecked ones are left out) and never the guard images. Both models are "
        "then scored on the guard images (the first retrain makes RUN's test images the guard set); the new "
        "model becomes the current one only if it is not worse. model_versions.csv next to the data lists "
        "every version, what it was trained on and its guard score; the new run's report shows it.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="Run folder of the current model.")
    parser.add_argument("--epochs", type=int, help="Epochs of fine-tuning (default: the recipe's train.epochs).")
    parser.add_argument("--learning-rate", type=float, help="Learning rate for fine-tuning (e.g. 1e-4).")
    parser.add_argument("--tolerance", type=float, default=0.0,
                        help="Accept a new model that is worse on the guard set by at most this much. Default: 0.")
    parser.add_argument("--runs", type=Path, help="Folder for the new run (default: next to RUN).")
    parser.add_argument("--events", action="store_true", help="Print JSON-lines events (for the app).")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from builder.active_learning.retrain import retrain
    from builder.cli.output import emit_json, say
    from builder.errors import CellwrightError
    from builder.events import json_lines_sink

    if args.epochs is not None and args.epochs < 1:
        raise CellwrightError("--epochs", f"Expected an integer >= 1. Received: epochs={args.epochs}",
                              "Use e.g. --epochs 10.")
    if args.tolerance < 0:
        raise CellwrightError("--tolerance", f"Expected a number >= 0. Received: tolerance={args.tolerance}",
                              "Use 0 (never accept a worse model) or a small margin such as 0.01.")
    if args.events:
        sink = json_lines_sink(sys.stdout)
    else:
        from builder.training.progress import ProgressPrinter

        sink = ProgressPrinter()
    result = retrain(args.run_dir, epochs=args.epochs, learning_rate=args.learning_rate, runs_dir=args.runs,
                     tolerance=args.tolerance, events=sink)
    if args.json:
        emit_json(result)
    elif not args.events:
        say(f"\nNew run: {result['run']} (trained on {result['annotations']['n_annotations']} annotations, "
            f"{result['annotations']['n_checked']} of them checked proposals)")
        say(result["sentence"])
        say(f"Current model: {result['current']}")
    return 0

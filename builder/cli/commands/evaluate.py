"""``cellwright evaluate``: score a trained run on its test split, or on another dataset folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

NAME = "evaluate"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Score a trained model on the test images (or another dataset) with every task metric.",
        description="Loads RUN_DIR/checkpoints/best.keras with the run's recipe and normalisation, scores the test "
        "split and writes RUN_DIR/metrics.json and RUN_DIR/evaluation/. With --data, every image of that folder "
        "(laid out like the training data) is scored and the results go to RUN_DIR/evaluations/<folder>/. A model "
        "trained on noisy images only is scored against clean images when the folder has images/ and targets/.",
    )
    parser.add_argument("run_dir", type=Path, help="Run folder written by 'cellwright train'.")
    parser.add_argument("--data", type=Path, default=None,
                        help="Another dataset folder in the recipe's layout (replaces data.root).")
    parser.add_argument("--json", action="store_true", help="Print all metrics as JSON.")
    parser.add_argument("--events", action="store_true",
                        help="Print progress as JSON-lines events instead of a progress bar (for the app and scripts).")
    parser.set_defaults(func=run)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def run(args: argparse.Namespace) -> int:
    from builder.cli.output import emit_json, say
    from builder.run_folder import RunFolder
    from builder.workflow.evaluate_job import evaluate_run, evaluation_dir

    if args.events:
        from builder.events import json_lines_sink

        sink = json_lines_sink()
    else:
        from builder.training.progress import ProgressPrinter

        sink = ProgressPrinter()  # "evaluating [#####....] 3/12 images" on standard error
    metrics = evaluate_run(args.run_dir, data=args.data, events=sink)
    if args.events and not args.json:
        return 0
    if args.json:
        emit_json(metrics)
        return 0
    head = metrics["headline"]
    say(f"{metrics['task']} on {metrics['split']} ({metrics['n_images']} images): "
        f"{head['name']} = {_fmt(head['value'])}")
    say("")
    width = max((len(k) for k in metrics["metrics"]), default=6)
    say(f"  {'metric':<{width}}  value")
    for key, value in metrics["metrics"].items():
        say(f"  {key:<{width}}  {_fmt(value)}")
    if metrics.get("input_baseline"):
        say("")
        say("  input vs target (what the model improves on):")
        for key, value in metrics["input_baseline"].items():
            say(f"  {key:<{width}}  {_fmt(value)}")
    if metrics.get("per_class"):
        say("")
        columns = sorted({k for row in metrics["per_class"].values() for k in row})
        say("  " + "class".ljust(16) + "".join(c.rjust(12) for c in columns))
        for name, row in metrics["per_class"].items():
            say("  " + str(name)[:16].ljust(16) + "".join(_fmt(row.get(c)).rjust(12) for c in columns))
    say("")
    say(f"Written to {RunFolder(evaluation_dir(args.run_dir, args.data)).metrics_path}")
    return 0

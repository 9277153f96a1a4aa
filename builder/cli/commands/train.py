"""``cellwright train RECIPE``: train, evaluate, report and export, with a progress bar or JSON-lines events."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from builder.workflow.train_job import TrainOutcome

NAME = "train"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Train the model a recipe describes, then evaluate it, write the report and export it.",
        description="Train a model. A run folder runs/<name>-<time>/ keeps the resolved recipe, the data split, "
        "checkpoints (best and last, every epoch), the history, metrics, the report and the exports. "
        "A run stopped at any moment can be continued with --resume.",
    )
    parser.add_argument("recipe", nargs="?", metavar="RECIPE", help="Recipe YAML file.")
    parser.add_argument("--resume", metavar="RUN_DIR", help="Continue an interrupted run from its last checkpoint.")
    parser.add_argument("--runs", metavar="DIR", help="Folder for run folders (default: runs/ in the current folder).")
    parser.add_argument("--events", action="store_true",
                        help="Print JSON-lines events instead of a progress bar (for the app and scripts).")
    parser.add_argument("--no-report", action="store_true", help="Skip the report at the end.")
    parser.add_argument("--no-export", action="store_true", help="Skip the exports at the end.")
    parser.add_argument("--no-test", action="store_true",
                        help="Keep the test images out: train and tune on the validation images only, never read or "
                        "score the test set; score it once, at the end, with 'cellwright evaluate RUN_DIR'.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from builder.errors import CellwrightError
    from builder.events import json_lines_sink, make_event

    if not args.recipe and not args.resume:
        raise CellwrightError("cellwright train", "Give a recipe file, or --resume RUN_DIR.",
                              "Example: cellwright train recipes/examples/nuclei_instances.yaml")
    if args.events:
        sink = json_lines_sink(sys.stdout)
    else:
        from builder.training.progress import ProgressPrinter

        sink = ProgressPrinter()
    from builder.workflow.train_job import train_recipe

    try:
        outcome = train_recipe(args.recipe, runs_dir=args.runs, resume=args.resume, events=sink,
                               report=not args.no_report, export=not args.no_export, no_test=args.no_test)
    except CellwrightError as error:
        if args.events and not getattr(error, "event_emitted", False):
            sink(make_event("error", **error.to_dict()))
        raise
    if not args.events:
        _summary(outcome)
    return 0


def _summary(outcome: TrainOutcome) -> None:
    from builder.cli.output import say

    say(f"\nRun folder: {outcome.run_dir}")
    headline = outcome.metrics.get("headline") if outcome.metrics else None
    if headline:
        say(f"Test {headline['name']}: {headline['value']:.3f}")
    elif outcome.test_held_out:
        say(f"Test images held out; score them with: cellwright evaluate {outcome.run_dir}")
    for path in outcome.reports:
        say(f"Report: {path}")
    for export in outcome.exports:
        say(f"Export ({export['format']}): {export['path']}")

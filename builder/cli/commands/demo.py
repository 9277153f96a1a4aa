"""``cellwright demo``: the first run after installing. Train the nuclei example on demo data and open its report."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "demo"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Try Cellwright: train the nuclei example on built-in demo data and open its report.",
        description="Generate synthetic nuclei images, train the example recipe "
        "recipes/examples/nuclei_instances.yaml on them (a few minutes on a laptop CPU), evaluate it, and open "
        "the report in your web browser. Nothing of yours is needed or changed.",
    )
    parser.add_argument("--tiny", action="store_true",
                        help="A seconds-long run on 8 small images and a tiny network (to check an installation).")
    parser.add_argument("--epochs", type=int, default=None, help="Number of training epochs (default: the recipe's).")
    parser.add_argument("--runs", metavar="DIR", default=None,
                        help="Folder for the run folder (default: $CELLWRIGHT_HOME/demo-runs, "
                        "i.e. ~/.cellwright/demo-runs).")
    parser.add_argument("--no-open", action="store_true", help="Print the report's path instead of opening it.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import webbrowser

    from builder.cli.output import say
    from builder.errors import CellwrightError
    from builder.training.progress import ProgressPrinter
    from builder.workflow.demo_run import demo_runs_dir, write_demo_recipe
    from builder.workflow.train_job import train_recipe

    if args.epochs is not None and args.epochs < 1:
        raise CellwrightError("cellwright demo --epochs", f"Expected an integer >= 1. Received: epochs={args.epochs}",
                              "Give --epochs 1 or more, or leave it out.")
    runs = Path(args.runs) if args.runs else demo_runs_dir()
    recipe_path = write_demo_recipe(runs, tiny=args.tiny, epochs=args.epochs)
    say(f"Training the nuclei example on demo data ({recipe_path}); the report opens when it is done.")
    outcome = train_recipe(recipe_path, runs_dir=runs, events=ProgressPrinter())
    say(f"\nRun folder: {outcome.run_dir}")
    if not outcome.reports:
        raise CellwrightError(str(outcome.run_dir), "The demo run finished but wrote no report.",
                              "Please report this as a bug in Cellwright.")
    report = Path(outcome.reports[0]).resolve()
    say(f"Report: {report}")
    if not args.no_open and webbrowser.open(report.as_uri()):
        say("The report is open in your web browser.")
    return 0

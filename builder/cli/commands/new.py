"""``cellwright new --task T``: write a commented starter recipe."""

from __future__ import annotations

import argparse

NAME = "new"


def register(subparsers: argparse._SubParsersAction) -> None:
    from builder.tasks import task_names

    parser = subparsers.add_parser(
        NAME, help="Write a commented starter recipe for a task.",
        description="Write a commented starter recipe. Edit the data folder and run "
        "'cellwright validate' to check it.",
    )
    parser.add_argument("--task", required=True, choices=task_names(), help="What the model should learn.")
    parser.add_argument("--out", metavar="FILE", default=None, help="Recipe file to write (default: <task>.yaml).")
    parser.add_argument("--name", default=None, help="Name of the experiment (default: my-<task>).")
    parser.add_argument("--force", action="store_true", help="Replace FILE if it already exists.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from builder.cli.output import say
    from builder.recipe.load import write_text_atomic
    from builder.recipe.starter import starter_recipe

    out = Path(args.out or f"{args.task}.yaml")
    text = starter_recipe(args.task, name=args.name, schema_ref=True)
    write_text_atomic(out, text, overwrite=args.force)
    say(f"Wrote {out}. Next: edit `data:` to point at your images, then run `cellwright validate {out}`.")
    return 0

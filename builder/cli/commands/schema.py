"""``cellwright schema``: write the recipe JSON Schema for editors (e.g. VS Code's YAML extension)."""

from __future__ import annotations

import argparse
import sys

NAME = "schema"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Write the recipe JSON Schema (editors use it to check recipes as you type).",
        description="Write the JSON Schema of recipes. Add '# yaml-language-server: $schema=PATH' as the first "
        "line of a recipe so that VS Code's YAML extension checks it while you type.",
    )
    parser.add_argument("--out", metavar="FILE", help="Write to FILE instead of standard output.")
    parser.add_argument("--force", action="store_true", help="Replace FILE if it exists.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from builder.cli.output import say
    from builder.recipe.json_schema import recipe_json_schema_text
    from builder.recipe.load import write_text_atomic

    text = recipe_json_schema_text()
    if args.out:
        write_text_atomic(Path(args.out), text, overwrite=args.force)
        say(f"Wrote the recipe schema to {args.out}")
    else:
        sys.stdout.write(text)
    return 0

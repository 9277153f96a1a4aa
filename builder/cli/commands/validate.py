"""``cellwright validate RECIPE...``: check recipes and list every problem with its position and a fix."""

from __future__ import annotations

import argparse

from builder.cli.output import emit_json, say

NAME = "validate"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Check recipe files and list every problem with its line and a fix.",
        description="Check one or more recipe files. Exit code 0: valid; 1: problems found.",
    )
    parser.add_argument("recipes", nargs="+", metavar="RECIPE", help="Recipe YAML file(s).")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON (for the GUI and scripts).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.recipe import validate_file

    results = []
    all_ok = True
    for path in args.recipes:
        recipe, problems = validate_file(path)
        ok = recipe is not None
        all_ok &= ok
        results.append({"file": path, "ok": ok, "problems": [p.to_dict() for p in problems]})
        if args.json:
            continue
        errors = [p for p in problems if p.severity == "error"]
        others = [p for p in problems if p.severity != "error"]
        if recipe is not None:
            say(f"{path}: OK ({recipe.task}, '{recipe.name}')")
        else:
            say(f"{path}: {len(errors)} problem{'s' if len(errors) != 1 else ''} to fix")
        for problem in errors + others:
            label = "" if problem.severity == "error" else f"{problem.severity}: "
            say(f"  {label}{problem.format()}".replace("\n", "\n  "))
    if args.json:
        emit_json({"ok": all_ok, "results": results})
    return 0 if all_ok else 1

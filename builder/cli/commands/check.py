"""``cellwright check RECIPE`` or ``cellwright check DATA_FOLDER``: the data doctor."""

from __future__ import annotations

import argparse
from pathlib import Path

from builder.cli.output import emit_json, say

NAME = "check"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Check a data set before training and say what to fix.",
        description="Scan the images of a recipe (or a data folder) and list counts, mismatches, empty or broken "
        "masks, unreadable files, duplicates and more, each with a fix. Exit code 0: no errors; 1: errors found.",
    )
    parser.add_argument("target", metavar="RECIPE_OR_FOLDER", help="A recipe YAML file or a folder of data.")
    parser.add_argument("--json", action="store_true", help="Print the findings as JSON (for the GUI and scripts).")
    parser.add_argument("--quiet", action="store_true", help="Show errors and warnings only (no counts).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.data.doctor import check_dataset, check_folder

    target = Path(args.target)
    if target.is_dir():
        problems = check_folder(target)
    else:
        from builder.recipe import load_recipe

        recipe = load_recipe(target)  # raises RecipeError (printed by main) when the recipe is invalid
        problems = check_dataset(recipe, target.parent)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if args.json:
        emit_json({"ok": not errors, "errors": len(errors), "warnings": len(warnings),
                   "problems": [p.to_dict() for p in problems]})
        return 1 if errors else 0
    for problem in problems:
        if args.quiet and problem.severity == "info":
            continue
        label = {"error": "ERROR", "warning": "warning", "info": "info"}.get(problem.severity, problem.severity)
        say(f"{label}: {problem.format()}")
    say(f"\n{len(errors)} error{'s' if len(errors) != 1 else ''}, {len(warnings)} "
        f"warning{'s' if len(warnings) != 1 else ''}." + (" Fix the errors before training." if errors else ""))
    return 1 if errors else 0

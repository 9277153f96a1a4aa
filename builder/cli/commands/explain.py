"""``cellwright explain RECIPE``: print the recipe with every default filled in and explained."""

from __future__ import annotations

import argparse

NAME = "explain"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Print a recipe with every default filled in, each key with its meaning.",
        description="Print the recipe as Cellwright will run it: every default filled in and marked.",
    )
    parser.add_argument("recipe", metavar="RECIPE", help="Recipe YAML file.")
    parser.add_argument("--no-comments", action="store_true", help="Leave out the help text after each key.")
    parser.add_argument("--json", action="store_true", help="Print the resolved recipe as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from builder.cli.output import emit_json
    from builder.recipe import load_recipe
    from builder.recipe.explain import explain_recipe

    recipe = load_recipe(args.recipe)
    if args.json:
        emit_json(recipe.model_dump(mode="json"))
    else:
        sys.stdout.write(explain_recipe(recipe, comments=not args.no_comments))
    return 0

"""``cellwright preview-augment RECIPE --out grid.png``: see what augmentation does to the training images."""

from __future__ import annotations

import argparse
from pathlib import Path

from builder.cli.output import emit_json, say

NAME = "preview-augment"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Write a PNG grid of augmented training samples (mask outlines in colour).",
        description="Cut training patches as training does, augment them with the recipe's augment: section and "
        "write a grid: each row is one patch, the first column the original, the others augmented versions.",
    )
    parser.add_argument("recipe", metavar="RECIPE", help="Recipe YAML file.")
    parser.add_argument("--out", default="augment-preview.png", help="PNG file to write.")
    parser.add_argument("--rows", type=int, default=4, help="Number of patches (rows).")
    parser.add_argument("--columns", type=int, default=5, help="Augmented versions per patch.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the patches and augmentations.")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.data.preview import write_augment_preview
    from builder.recipe import load_recipe

    recipe_path = Path(args.recipe)
    recipe = load_recipe(recipe_path)
    out = write_augment_preview(recipe, recipe_path.parent, Path(args.out), rows=args.rows, columns=args.columns,
                                seed=args.seed)
    if args.json:
        emit_json({"ok": True, "out": str(out)})
    else:
        say(f"Wrote {out}")
    return 0

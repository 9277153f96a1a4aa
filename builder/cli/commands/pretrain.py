"""``cellwright pretrain IMAGES``: learn an encoder from unlabelled images (masked-image reconstruction)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from builder.pretrain.settings import PretrainSettings
    from builder.recipe import Recipe

NAME = "pretrain"

_OPTIONS = ("out", "size", "fit", "epochs", "batch_size", "learning_rate", "depth", "base_filters", "mask_ratio",
            "seed")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Pre-train an encoder on unlabelled images; recipes start from it with backbone: {from: FILE}.",
        description="Self-supervised pre-training: random squares of each unlabelled image are hidden and a small "
        "network learns to fill them in. Its encoder is saved as a .keras file (plus FILE.pretrain.json) that "
        "any recipe can start from with `backbone: {from: FILE}`; the run report's Methods says how it was made.",
    )
    parser.add_argument("images", metavar="IMAGES", help="Folder of unlabelled images (sub-folders included).")
    parser.add_argument("--out", metavar="FILE", help="Encoder file to write (default: pretrained_encoder.keras).")
    parser.add_argument("--recipe", metavar="RECIPE", help="Recipe the encoder is for: its normalisation, "
                        "channels and classifier image size are used.")
    parser.add_argument("--size", type=int, help="Input side in px (default: the recipe's image_size, else 64).")
    parser.add_argument("--fit", choices=("auto", "resize", "crop"), help="Resize whole images or cut crops.")
    parser.add_argument("--epochs", type=int, help="Passes over the images (default 30).")
    parser.add_argument("--batch-size", type=int, dest="batch_size", help="Images per step (default 32).")
    parser.add_argument("--learning-rate", type=float, dest="learning_rate", help="Adam step size (default 1e-3).")
    parser.add_argument("--depth", type=int, help="Encoder levels (default 3, as the classifier's small CNN).")
    parser.add_argument("--base-filters", type=int, dest="base_filters", help="First level's channels (16).")
    parser.add_argument("--mask-ratio", type=float, dest="mask_ratio", help="Fraction hidden (default 0.5).")
    parser.add_argument("--seed", type=int, help="Random seed (default 0).")
    parser.add_argument("--events", action="store_true", help="Print JSON-lines events (for the app and scripts).")
    parser.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace, recipe: Recipe | None = None) -> PretrainSettings:
    """:class:`PretrainSettings` from the command line; a bad value raises a CellwrightError naming the option."""
    from pydantic import ValidationError

    from builder.errors import CellwrightError
    from builder.pretrain.settings import PretrainSettings

    values = {"images": args.images}
    values.update({k: getattr(args, k) for k in _OPTIONS if getattr(args, k, None) is not None})
    from builder.tasks import get_task

    if "size" not in values and recipe is not None and get_task(recipe.task).whole_image_input:
        values["size"] = recipe.preprocess.image_size or recipe.preprocess.patch.size
    try:
        return PretrainSettings(**values)
    except ValidationError as error:
        first = error.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "images"
        option = f"--{key.replace('_', '-')}" if key != "images" else "IMAGES"
        raise CellwrightError(
            f"cellwright pretrain {option}",
            f"{first['msg']}. Received: {key}={values.get(key)!r}",
            f"Run `cellwright pretrain --help` for the allowed values of {option}.",
        ) from None


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from builder.cli.output import say
    from builder.events import json_lines_sink
    from builder.recipe import load_recipe

    recipe = load_recipe(args.recipe) if args.recipe else None
    settings = settings_from_args(args, recipe)
    if args.events:
        sink = json_lines_sink(sys.stdout)
    else:
        def sink(event: dict) -> None:
            if event["event"] == "epoch":
                say(f"epoch {event['epoch']}/{event['epochs']}  reconstruction loss {event['loss']:.4f}")
            elif event["event"] == "start":
                say(f"Pre-training on {event['images']} image(s) ({event['inputs']} inputs)...")
    from builder.workflow.pretrain_job import pretrain

    outcome = pretrain(settings, recipe=recipe, base_dir=Path.cwd(), events=sink)
    if not args.events:
        say(f"Encoder: {outcome.encoder}\nUse it in a recipe: backbone: {{from: {outcome.encoder}}}")
    return 0

"""``cellwright suggest RUN [IMAGES]``: the images to annotate next, most uncertain first (active learning)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "suggest"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="List the images to annotate next: those the model is least sure about.",
        description="Ranks unlabelled images (and images with a proposed, unchecked annotation) by the model's "
        "uncertainty: entropy of its class probabilities plus how much its answers disagree on flipped and "
        "rotated copies of the image. Writes annotate_next.csv (next to the data unless --out is given).",
    )
    parser.add_argument("model", type=Path, help="Run folder of the current model.")
    parser.add_argument("images", type=Path, nargs="*",
                        help="Images or folders to rank (default: the dataset's images without a checked annotation).")
    parser.add_argument("--top", type=int, default=10, help="How many to print (all are written). Default: 10.")
    parser.add_argument("--region", type=int, metavar="PX",
                        help="Segmentation: rank PX x PX regions of each image instead of whole images.")
    parser.add_argument("--no-tta", action="store_true", help="Use the plain prediction only (4x faster).")
    parser.add_argument("--out", type=Path, help="CSV file to write (default: DATA_FOLDER/annotate_next.csv).")
    parser.add_argument("--json", action="store_true", help="Print the ranking as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.active_learning.ranking import SUGGESTIONS_FILE, rank_images, write_suggestions
    from builder.annotation.propose import unlabelled_images
    from builder.cli.output import emit_json, say
    from builder.data.layouts import discover
    from builder.errors import CellwrightError
    from builder.workflow.model_source import open_model_source
    from builder.workflow.predict_inputs import collect_inputs

    if args.top < 1:
        raise CellwrightError("--top", f"Expected an integer >= 1. Received: top={args.top}", "Use e.g. --top 10.")
    source = open_model_source(args.model)
    dataset = discover(source.recipe, source.recipe.base_dir)
    paths = collect_inputs(args.images)[0] if args.images else unlabelled_images(source.recipe, dataset)
    if not paths:
        raise CellwrightError(str(dataset.root), "No images to rank: every image has a checked annotation.",
                              "Pass the images (or a folder of them) to rank, e.g. cellwright suggest RUN new/.")
    if args.region is not None and args.region < 8:
        raise CellwrightError("--region", f"Expected an integer >= 8 (pixels). Received: region={args.region}",
                              "Use e.g. --region 128.")
    rows = rank_images(source, paths, tta=not args.no_tta, region=args.region)
    out = write_suggestions(rows, args.out or Path(dataset.root) / SUGGESTIONS_FILE)
    if args.json:
        emit_json({"file": str(out), "ranking": rows})
        return 0
    say(f"Annotate next (most uncertain first; all {len(rows)} in {out}):")
    for row in rows[: args.top]:
        guess = f"  model says {row['prediction']}" if "prediction" in row else ""
        where = f" region y={row['y']} x={row['x']}" if "y" in row else ""
        say(f"  {row['rank']:>3}. {Path(row['image']).name}{where}  uncertainty {row['score']:.3f} "
            f"(entropy {row['entropy']:.3f}, TTA disagreement {row['tta']:.3f}){guess}")
    return 0

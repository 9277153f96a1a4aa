"""``cellwright propose RUN [IMAGES]``: write a model's predictions as annotations to correct (not redraw)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "propose"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Write a trained model's predictions as annotations to check and correct.",
        description="Predicts unlabelled images and writes the predictions in the dataset's own layout: label "
        "TIFFs in the masks folder (segmentation), the class in the manifest CSV or the image in its class "
        "folder (classification). Each is marked 'proposed' in annotation_status.csv next to the data; training "
        "leaves proposed annotations out until you mark them checked (cellwright annotations check). "
        "Annotations a person made or checked are never overwritten.",
    )
    parser.add_argument("model", type=Path, help="Run folder of the current model (its recipe names the data).")
    parser.add_argument("images", type=Path, nargs="*",
                        help="Images or folders to annotate (default: the dataset's images without annotation); "
                        "images from elsewhere are copied into the data folder.")
    parser.add_argument("--events", action="store_true", help="Print progress as JSON lines (for the GUI).")
    parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.annotation.propose import propose_annotations
    from builder.cli.output import emit_json, say
    from builder.events import json_lines_sink

    summary = propose_annotations(args.model, args.images or None,
                                  events=json_lines_sink() if args.events else None)
    if args.json:
        emit_json(summary)
    elif not args.events:
        say(f"{len(summary['proposed'])} proposed annotation(s) written in {summary['root']} "
            f"(layout {summary['layout']}); check and correct them, then mark them checked.")
        for row in summary["proposed"]:
            extra = row.get("class") or (f"{row['objects']} objects" if "objects" in row else "")
            say(f"  {row['image']} -> {row['annotation']}" + (f" ({extra})" if extra else ""))
        for row in summary["kept"]:
            say(f"  kept as it is: {row['image']} ({row['why']})")
    return 0

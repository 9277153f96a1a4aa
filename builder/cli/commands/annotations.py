"""``cellwright annotations``: mark images checked or guard, and show the annotation status of a data folder."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "annotations"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Mark annotations checked (or as the guard set) and show the annotation status of a data folder.",
        description="The status lives in annotation_status.csv in the data folder (columns image,status,by,"
        "updated; status proposed, checked or guard). 'check' marks corrected proposals as checked (training "
        "uses them), 'guard' marks images kept for judging model versions (never trained on), 'status' counts "
        "them.",
    )
    parser.add_argument("action", choices=("check", "guard", "status"), help="What to do.")
    parser.add_argument("data", type=Path, help="The data folder (data.root of the recipe).")
    parser.add_argument("images", nargs="*", help="Image files or names (for check and guard).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.annotation.checked import STATUSES, mark, read_status, status_path
    from builder.cli.output import say
    from builder.errors import CellwrightError

    if not args.data.is_dir():
        raise CellwrightError(str(args.data), "Expected the data folder (the recipe's data.root). Received: not a "
                              "folder.", "Give the folder that holds the images and annotations.")
    if args.action == "status":
        rows = read_status(args.data)
        counts = {s: sum(1 for r in rows.values() if r.status == s) for s in STATUSES}
        say(f"{status_path(args.data)}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
        for row in sorted(rows.values(), key=lambda r: (r.status, r.image)):
            say(f"  {row.status:<9} {row.image}  ({row.by}, {row.updated})")
        return 0
    if not args.images:
        raise CellwrightError(f"cellwright annotations {args.action}", "Expected one or more images. Received: none.",
                              f"Example: cellwright annotations {args.action} {args.data} image_01.tif")
    status = "checked" if args.action == "check" else "guard"
    names = mark(args.data, args.images, status)
    say(f"{len(names)} image(s) marked {status} in {status_path(args.data)}")
    return 0

"""``cellwright import``: check a shared model (bundle or bioimage.io zip) and unpack it safely."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

NAME = "import"


def _models_home() -> Path:
    return Path(os.environ.get("CELLWRIGHT_MODELS", Path.home() / ".cellwright" / "models"))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Check and unpack a shared model (Cellwright bundle or bioimage.io package).",
        description="Refuses archives with absolute or '..' paths, changed files (checksums) and models that "
        "contain Python code (Lambda layers); re-runs the stored test input.",
    )
    parser.add_argument("archive", type=Path, help="Bundle .zip or bioimage.io .zip.")
    parser.add_argument("--to", type=Path, default=None,
                        help="Folder to unpack into (default: $CELLWRIGHT_MODELS or ~/.cellwright/models/NAME).")
    parser.add_argument("--check-only", action="store_true", help="Check without keeping the unpacked files.")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from builder.cli.output import emit_json, say
    from builder.errors import ExportError
    from builder.model_files.shared import describe, open_shared

    stem = args.archive.name.removesuffix(".zip").removesuffix(".cellwright").removesuffix(".bioimageio")
    target = args.to or _models_home() / stem
    if not args.check_only and target.exists() and any(target.iterdir()):
        raise ExportError(str(target), "The target folder exists and is not empty.",
                          "Choose another folder with --to, or delete the old copy first.")
    with tempfile.TemporaryDirectory(prefix="cellwright-import-") as tmp:
        shared = open_shared(args.archive, Path(tmp) / "model")
        if not args.check_only:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(shared.folder, target, dirs_exist_ok=True)
            shared.folder = target
    if args.json:
        emit_json(shared.summary() | {"kept": not args.check_only})
        return 0
    say(describe(shared))
    say("checked only; nothing kept" if args.check_only else f"unpacked to {target}")
    return 0

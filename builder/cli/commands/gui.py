"""``cellwright gui [RECIPE]``: open the desktop app."""

from __future__ import annotations

import argparse

NAME = "gui"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Open the desktop app.",
        description="Open the Cellwright desktop app (recipe editor, data browser, training and results).",
    )
    parser.add_argument("recipe", nargs="?", default=None, help="Recipe file to open (optional).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import importlib

    from builder.errors import CellwrightError

    try:
        # The one sanctioned builder -> gui edge: a launcher, loaded by name so the engine never depends on Qt.
        main = importlib.import_module("gui.app").main
    except ImportError as error:
        raise CellwrightError(
            "cellwright gui", f"The desktop app cannot start: {error}.",
            "Install the GUI libraries: pip install 'PySide6-Essentials>=6.6' (and on Linux the Qt system "
            "libraries, e.g. libxcb-cursor0).",
        ) from error
    return int(main(recipe=args.recipe) or 0)

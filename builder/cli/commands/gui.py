"""``cellwright gui [RECIPE]``: open the desktop app; ``--install-launcher`` adds it to the desktop's app menu."""

from __future__ import annotations

import argparse

NAME = "gui"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Open the desktop app.",
        description="Open the Cellwright desktop app (recipe editor, data browser, training and results).",
    )
    parser.add_argument("recipe", nargs="?", default=None, help="Recipe file to open (optional).")
    parser.add_argument(
        "--install-launcher", action="store_true",
        help="Add Cellwright to the desktop's application menu (writes cellwright.desktop into "
             "$XDG_DATA_HOME/applications, default ~/.local/share/applications) instead of opening the app.",
    )
    parser.add_argument("--force", action="store_true",
                        help="With --install-launcher: replace a different existing launcher.")
    parser.add_argument("--json", action="store_true", help="With --install-launcher: print the result as JSON.")
    parser.set_defaults(func=run)


def install_launcher(args: argparse.Namespace) -> int:
    """Write the desktop launcher (Linux), or say what to do instead (macOS, Windows)."""
    import importlib
    import sys

    from builder.cli.output import emit_json, say

    # Loaded by name like the app itself: the engine never imports the GUI package at import time.
    launcher = importlib.import_module("gui.launcher")
    command = launcher.cellwright_command()
    advice = launcher.other_platform_advice(sys.platform, command)
    if advice is not None:
        if args.json:
            emit_json({"ok": True, "status": "not_supported", "platform": sys.platform, "advice": advice})
        else:
            say(advice)
        return 0
    result = launcher.install_launcher(force=args.force, command=command)
    if args.json:
        emit_json({"ok": True, "status": result.status, "path": str(result.path), "command": command})
    elif result.status == "unchanged":
        say(f"The launcher is already installed: {result.path}")
    else:
        say(f"{'Replaced' if result.status == 'replaced' else 'Installed'} the launcher: {result.path}")
        say("Cellwright now appears in your desktop's application menu (log out and in if it does not show yet).")
    return 0


def run(args: argparse.Namespace) -> int:
    import importlib

    from builder.errors import CellwrightError

    if getattr(args, "install_launcher", False):
        return install_launcher(args)
    if getattr(args, "force", False):
        raise CellwrightError("cellwright gui --force", "--force only goes with --install-launcher.",
                              "Run 'cellwright gui --install-launcher --force'.")

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

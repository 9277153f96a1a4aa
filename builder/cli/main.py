"""Entry point of the ``cellwright`` command.

Each sub-command lives in its own module under :mod:`builder.cli.commands` and exposes
``register(subparsers)``; modules are discovered automatically, so adding a command is one file.
No command module may import TensorFlow at import time.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback

# Keep TensorFlow's C++ start-up chatter out of the user's terminal (set before any lazy import).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from builder import __version__
from builder.cli.output import emit_json
from builder.errors import CellwrightError

#: Exit codes: 0 success, 1 the job ran but found problems (e.g. invalid recipe), 2 usage or user error, 3 bug.
EXIT_OK, EXIT_PROBLEMS, EXIT_USER_ERROR, EXIT_BUG = 0, 1, 2, 3

#: Order in which commands are listed in --help (others follow alphabetically).
_ORDER = [
    "new", "validate", "explain", "schema", "doctor", "demo", "blocks", "templates", "build", "expand", "weights",
    "demo-data", "check", "preview-augment", "pretrain", "train", "evaluate", "predict", "serve", "propose",
    "annotations", "suggest", "retrain", "report", "compare", "export",
    "import", "bench", "gui",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellwright",
        description="Cellwright: build, train, evaluate and share deep-learning models for cell images.",
        epilog="Run 'cellwright COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"cellwright {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = []
    import builder.cli.commands as commands

    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        modules.append(importlib.import_module(f"builder.cli.commands.{info.name}"))
    rank = {name: i for i, name in enumerate(_ORDER)}
    modules.sort(key=lambda m: (rank.get(getattr(m, "NAME", m.__name__), len(rank)), m.__name__))
    for module in modules:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        code = args.func(args)
    except CellwrightError as error:
        if getattr(args, "json", False):
            emit_json({"ok": False, "error": error.to_dict()})
        else:
            sys.stderr.write(f"error: {error.format()}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130
    except Exception:  # a bug: show everything and ask for a report
        traceback.print_exc()
        sys.stderr.write(
            "\nThis is a bug in Cellwright, not something you did wrong. Please report it with the text above.\n"
        )
        return EXIT_BUG
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

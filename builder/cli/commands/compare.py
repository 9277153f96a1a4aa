"""``cellwright compare RUN_DIR... --out FILE.html``: several runs side by side."""

from __future__ import annotations

import argparse

NAME = "compare"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Compare training runs side by side (metrics, curves, recipe differences).",
        description="Write one self-contained HTML page with a table of every run's test metrics, their training "
        "curves overlaid and the recipe keys that differ between them.",
    )
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="Two or more run folders.")
    parser.add_argument("--out", default="comparison.html", help="HTML file to write (default: comparison.html).")
    parser.add_argument("--open", action="store_true", help="Open the page in the default browser afterwards.")
    parser.add_argument("--json", action="store_true", help="Print the written path as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.cli.output import emit_json, say
    from builder.report import compare_runs

    path = compare_runs(args.run_dirs, args.out)
    if args.json:
        emit_json({"file": str(path)})
    else:
        say(f"Wrote {path}")
    if args.open:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())
    return 0

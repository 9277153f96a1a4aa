"""``cellwright report RUN_DIR``: (re)write the report of a training run as HTML and/or PDF."""

from __future__ import annotations

import argparse

NAME = "report"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Write the report of a training run (self-contained HTML and/or PDF).",
        description="Regenerate the report of a run folder: summary, data, model, training curves, test results, "
        "reproducibility and a ready-to-paste Methods paragraph. Files missing from the run leave their part out.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="Run folder written by 'cellwright train'.")
    parser.add_argument("--format", nargs="+", choices=["html", "pdf"], default=["html"], dest="formats",
                        help="Formats to write (default: html).")
    parser.add_argument("--out-dir", default=None, help="Folder for the report files (default: the run folder).")
    parser.add_argument("--open", action="store_true", help="Open the report in the default viewer afterwards.")
    parser.add_argument("--json", action="store_true", help="Print the written paths as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.cli.output import emit_json, say, warn
    from builder.report import build_report

    paths = build_report(args.run_dir, formats=args.formats, out_dir=args.out_dir)
    if args.json:
        emit_json({"files": [str(p) for p in paths]})
    else:
        for path in paths:
            say(f"Wrote {path}")
    if args.open:
        import webbrowser

        if not webbrowser.open(paths[0].resolve().as_uri()):
            warn(f"Could not open a viewer; open {paths[0]} yourself.")
    return 0

"""``cellwright weights list | fetch NAME | import FILE_OR_DIR | where``: pretrained weights in the Keras cache."""

from __future__ import annotations

import argparse

from builder.cli.output import emit_json, say

NAME = "weights"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Manage pretrained backbone weights (also for computers without internet).",
        description="Pretrained ImageNet weights live in the Keras cache ($KERAS_HOME/models, default "
                    "~/.keras/models). Fetch them on a computer with internet, copy the files, then import them "
                    "on the offline computer.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    for name, text in (("list", "Show every backbone, its weights file name and whether it is in the cache."),
                       ("where", "Print the cache folder.")):
        sub = actions.add_parser(name, help=text, description=text)
        sub.add_argument("--json", action="store_true", help="Print JSON.")
        sub.set_defaults(func=run)
    fetch = actions.add_parser(
        "fetch", help="Download a backbone's ImageNet weights into the cache.",
        description="Download a backbone's ImageNet weights into the cache, from Keras's public URL or, when "
                    "CELLWRIGHT_WEIGHTS_ORIGIN is set (a folder or URL prefix, e.g. a local mirror), from "
                    "ORIGIN/<file name>; the hash Keras checks is checked either way.")
    fetch.add_argument("name", metavar="NAME", help="Backbone name, e.g. mobilenet_v2 (or 'all').")
    fetch.add_argument("--force", action="store_true", help="Download again even if the file is there.")
    fetch.add_argument("--json", action="store_true", help="Print JSON.")
    fetch.set_defaults(func=run)
    imp = actions.add_parser("import", help="Copy weights files (or a folder of them) into the cache.")
    imp.add_argument("source", metavar="FILE_OR_DIR", help="A weights .h5 file with its Keras file name, or a folder.")
    imp.add_argument("--force", action="store_true", help="Replace a different file of the same name.")
    imp.add_argument("--json", action="store_true", help="Print JSON.")
    imp.set_defaults(func=run)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def run(args: argparse.Namespace) -> int:
    from builder.backbones import weights

    if args.action == "where":
        folder = weights.cache_dir()
        if args.json:
            emit_json({"cache_dir": str(folder), "exists": folder.is_dir()})
        else:
            say(str(folder))
        return 0
    if args.action == "list":
        rows = weights.weights_status()
        if args.json:
            emit_json({"cache_dir": str(weights.cache_dir()), "backbones": [r.to_dict() for r in rows]})
            return 0
        say(f"Cache folder: {weights.cache_dir()}")
        width = max(len(r.name) for r in rows)
        for row in rows:
            state = f"present ({row.size_mb} MB)" if row.present else "missing"
            say(f"  {row.name:<{width}}  {state:<18} {row.file}")
        missing = [r.name for r in rows if not r.present]
        if missing:
            say("\nGet a missing file with `cellwright weights fetch NAME` (needs internet), or copy it from another "
                "computer and run `cellwright weights import FILE_OR_DIR`.")
        return 0
    if args.action == "fetch":
        from builder.backbones.catalog import BACKBONES, get_backbone

        names = list(BACKBONES) if args.name == "all" else [get_backbone(args.name, where="NAME").name]
        paths = {name: str(weights.fetch(name, force=args.force)) for name in names}
        if args.json:
            emit_json({"ok": True, "files": paths})
        else:
            for name, path in paths.items():
                say(f"{name}: {path}")
        return 0
    results = weights.import_weights(args.source, force=args.force)
    if args.json:
        emit_json({"ok": True, "results": [vars(r) for r in results]})
    else:
        for r in results:
            target = f" -> {r.target}" if r.target else ""
            note = f" ({r.note})" if r.note else ""
            say(f"{r.action}: {r.source}{target}{note}")
    return 0

"""``cellwright demo-data KIND OUT``: write a built-in synthetic data set to try Cellwright on."""

from __future__ import annotations

import argparse

from builder.cli.output import emit_json, say

NAME = "demo-data"


def _kinds_help() -> str:
    from builder.data.demo_kinds import DEMO_KINDS

    lines = ["kinds:"]
    for spec in DEMO_KINDS.values():
        lines.append(f"  {spec.name:<11} {spec.summary}")
        lines.append(f"  {'':<11} task {spec.task}; default {spec.n_images} {spec.count_means}, {spec.size} px")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    from builder.data.demo_kinds import DEMO_KINDS

    parser = subparsers.add_parser(
        NAME,
        help="write a built-in synthetic demo data set (nuclei, cells, denoise, label_free, timelapse)",
        description="Write realistic synthetic microscopy data with ground truth into a new folder, ready for "
        "'cellwright check' and 'cellwright train'. The same --seed gives the same images.",
        epilog=_kinds_help() + "\n\nexample:\n  cellwright demo-data nuclei demo/nuclei",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", metavar="KIND", choices=list(DEMO_KINDS), help="what to make: " + ", ".join(DEMO_KINDS))
    parser.add_argument("out", metavar="OUT", help="folder to create (must be new or empty unless --force)")
    parser.add_argument("--n", type=int, default=None,
                        help="number of images (cells: crops per class; timelapse: frames); default per kind")
    parser.add_argument("--size", type=int, default=None, help="image side in pixels (default 128; cells 64)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--force", action="store_true",
                        help="write into a non-empty folder (earlier demo output there is replaced)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.data.demo import DEMO_KINDS, make_demo

    out = make_demo(args.kind, args.out, n_images=args.n, size=args.size, seed=args.seed, force=args.force)
    spec = DEMO_KINDS[args.kind]
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    if args.json:
        emit_json({"ok": True, "kind": spec.name, "task": spec.task, "out": str(out), "n_files": len(files)})
    else:
        say(f"Wrote {spec.name} demo data ({len(files)} files) to {out}")
        say(f"  {spec.summary}; see {out / 'README.txt'}")
    return 0

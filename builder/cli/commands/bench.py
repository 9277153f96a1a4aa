"""``cellwright bench``: speed measurements (never timed asserts in tests)."""

from __future__ import annotations

import argparse

NAME = "bench"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Measure speed: command start-up (validate must stay under 1.5 s) and more from a checkout.",
        description="Measure how fast Cellwright is on this computer. 'startup' times `cellwright validate` in a "
        "fresh process; in a source checkout, the scripts in tests/benchmarks/ measure the input pipeline and "
        "the compiled vs hand-written U-Net.",
    )
    parser.add_argument("what", nargs="?", default="startup", choices=["startup", "list"],
                        help="'startup' (default) or 'list' the benchmark scripts of a source checkout.")
    parser.add_argument("--repeat", type=int, default=5, help="Runs to time (the median is reported).")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.bench import benchmark_scripts, time_validate
    from builder.cli.output import emit_json, say

    if args.what == "list":
        scripts = benchmark_scripts()
        if args.json:
            emit_json([str(s) for s in scripts])
        for script in scripts:
            say(f"python {script}")
        if not scripts:
            say("No benchmark scripts here: they live in tests/benchmarks/ of a source checkout.")
        return 0
    result = time_validate(repeat=args.repeat)
    if args.json:
        emit_json(result)
    else:
        say(f"cellwright validate: median {result['median_s']:.2f} s over {result['repeat']} runs "
            f"(target < {result['target_s']} s) -> {'OK' if result['ok'] else 'TOO SLOW'}")
        say(f"tensorflow imported: {result['tensorflow_imported']}")
    return 0 if result["ok"] else 1

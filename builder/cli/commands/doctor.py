"""``cellwright doctor``: what this computer offers (versions, GPU and why not, memory, disk, weights cache)."""

from __future__ import annotations

import argparse

NAME = "doctor"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Check this computer: versions, GPU (and why none is used), memory, disk, weights cache.",
        description="Report Python, TensorFlow and Keras versions, whether TensorFlow sees a GPU (and why not), "
        "free memory and disk, and where pretrained weights are kept.",
    )
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    parser.add_argument("--no-gpu-check", action="store_true", help="Skip importing TensorFlow (faster).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.cli.output import emit_json, say
    from builder.environment import basic_environment
    from builder.gpu import gpu_report

    report = basic_environment()
    if not args.no_gpu_check:
        report.update(gpu_report())
    if args.json:
        emit_json(report)
        return 0
    say(f"Python        {report['python']}  ({report['platform']})")
    say(f"Cellwright    {report['cellwright']}")
    say(f"TensorFlow    {report['tensorflow'] or 'NOT INSTALLED'}  ({report['tensorflow_package'] or '-'})")
    say(f"Keras         {report['keras'] or 'NOT INSTALLED'}")
    say(f"CPU cores     {report['cpu_count']}")
    say(f"Memory        {report['memory_available_gb']} GB free of {report['memory_total_gb']} GB")
    say(f"Disk          {report['disk_free_gb']} GB free at {report['disk_path']}")
    cache_state = "exists" if report["keras_cache_exists"] else "not created yet"
    say(f"Weights cache {report['keras_cache']} ({cache_state}; set KERAS_HOME to move it)")
    if not args.no_gpu_check:
        if report.get("gpu_visible"):
            say(f"GPU           yes: {', '.join(report.get('gpu_names', report['gpus']))}")
        else:
            say("GPU           none visible to TensorFlow")
            say(f"              {report['reason']}")
    problems = []
    if report["tensorflow"] is None:
        problems.append("TensorFlow is missing: run `pip install cellwright` again.")
    if report["disk_free_gb"] < 2:
        problems.append("Less than 2 GB of free disk: training runs write checkpoints and reports.")
    if report["memory_available_gb"] < 2:
        problems.append("Less than 2 GB of free memory: close other programs or use smaller patches/batches.")
    for problem in problems:
        say(f"! {problem}")
    return 1 if problems else 0

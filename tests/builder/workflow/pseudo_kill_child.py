"""Child process of the pseudo-label kill test: train a recipe and stop dead between the two rounds.

It trains with an event sink that, on the log line announcing the pseudo-labels (written to the run folder
just before round 2 starts), prints ``BETWEEN-ROUNDS <run folder>`` and sleeps; the test then kills this
process with SIGKILL. Usage: ``python pseudo_kill_child.py RECIPE RUNS_DIR``.
"""

from __future__ import annotations

import sys
import time

from builder.workflow.train_job import train_recipe

_run_dir = ""


def sink(event: dict) -> None:
    global _run_dir
    message = str(event.get("message", ""))
    if message.startswith("Run folder: "):
        _run_dir = message.removeprefix("Run folder: ")
    if event.get("event") == "log" and message.startswith("Pseudo-labels:"):
        print(f"BETWEEN-ROUNDS {_run_dir}", flush=True)
        time.sleep(600)


if __name__ == "__main__":
    train_recipe(sys.argv[1], runs_dir=sys.argv[2], events=sink, report=False, export=False)

"""Where the wall and CPU seconds of ``cellwright train RECIPE`` go, stage by stage (the quick start by default).

Runs the whole command in this process (demo data generated into ``$CELLWRIGHT_HOME`` when it is not there yet,
training, evaluation, report, export) and records wall and process CPU time (all threads) at every event:
before training starts (imports, demo data, loading), the training steps (input pipeline included), the
end-of-epoch work (validation loss, the per-epoch validation score, checkpoints), then each stage after training.
On a shared machine compare the CPU seconds; the load average is printed before and after. Run by hand (not
collected by pytest), e.g. with a fresh ``CELLWRIGHT_HOME`` to include the demo data generation:

    CELLWRIGHT_HOME=/tmp/cw nice -n 10 .venv/bin/python tests/benchmarks/bench_quickstart_stages.py \
        [recipes/examples/nuclei_instances.yaml] [--runs /tmp/runs]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from typing import Any


def stage_table(events: list[tuple[str, str, float, float, dict[str, Any]]]) -> list[str]:
    """Lines of wall and CPU seconds per stage from ``(event, what, wall_s, cpu_s, event_dict)`` records."""
    start = next(e for e in events if e[0] == "start")
    epochs = [e for e in events if e[0] == "epoch"]
    lines = [f"before training     wall {start[2]:7.1f}  cpu {start[3]:7.1f}"]
    steps_w = steps_c = end_w = end_c = 0.0
    first = last = start
    for record in events:
        if record[0] == "batch":
            if record[4].get("step") == 1:
                first = last
            last_batch = record
        elif record[0] == "epoch":
            steps_w += last_batch[2] - first[2]
            steps_c += last_batch[3] - first[3]
            end_w += record[2] - last_batch[2]
            end_c += record[3] - last_batch[3]
            last = record
    lines.append(f"training steps      wall {steps_w:7.1f}  cpu {steps_c:7.1f}  ({len(epochs)} epochs)")
    lines.append(f"end of each epoch   wall {end_w:7.1f}  cpu {end_c:7.1f}  (validation loss and score, checkpoints)")
    previous = epochs[-1] if epochs else start
    for record in events[events.index(previous) + 1:]:
        if record[0] in ("batch", "progress"):
            continue
        lines.append(f"{record[0]:>10} {record[1][:48]:<48} +wall {record[2] - previous[2]:6.1f}  "
                     f"+cpu {record[3] - previous[3]:6.1f}")
        previous = record
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", nargs="?", default="recipes/examples/nuclei_instances.yaml")
    parser.add_argument("--runs", default="runs")
    args = parser.parse_args()
    print("load average before:", os.getloadavg())
    wall0, cpu0 = time.time(), time.process_time()
    from builder.workflow.train_job import train_recipe

    events: list[tuple[str, str, float, float, dict[str, Any]]] = []

    def sink(event: dict[str, Any]) -> None:
        what = str(event.get("message") or event.get("stage") or event.get("kind") or "")
        events.append((str(event.get("event")), what, time.time() - wall0, time.process_time() - cpu0, event))

    outcome = train_recipe(args.recipe, runs_dir=args.runs, events=sink)
    print("\n".join(stage_table(events)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"total               wall {time.time() - wall0:7.1f}  cpu {usage.ru_utime + usage.ru_stime:7.1f}")
    print("load average after:", os.getloadavg())
    print("headline:", outcome.metrics.get("headline"))


if __name__ == "__main__":
    main()

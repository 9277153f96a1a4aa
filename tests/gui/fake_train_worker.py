"""A stand-in for ``cellwright train RECIPE --events`` (until the real command exists): real event lines.

Usage: python fake_train_worker.py RUN_DIR EPOCHS [--fail | --crash] [--from N] [--write-run] [--evaluate N]
                                   [--wait-for FILE]
(--evaluate N: after the fit, the evaluation's progress events for N test images, then the test score)
(N: epochs done before a resume; --write-run makes RUN_DIR a run folder on disk, as the real worker does)
(--wait-for FILE: say nothing until FILE exists, so a test can look at the page before the first event)
"""

import sys
import time
from pathlib import Path

from builder.events import json_lines_sink, make_event

run_dir, epochs = sys.argv[1], int(sys.argv[2])
first = int(sys.argv[sys.argv.index("--from") + 1]) if "--from" in sys.argv else 0
sink = json_lines_sink()
if "--wait-for" in sys.argv:
    go = Path(sys.argv[sys.argv.index("--wait-for") + 1])
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
if "--write-run" in sys.argv:
    (Path(run_dir) / "checkpoints").mkdir(parents=True, exist_ok=True)
print("plain log line from the worker", flush=True)
sink(make_event("start", run=run_dir, epochs=epochs, initial_epoch=first, device="CPU", gpus=[], parameters=1234))
for epoch in range(first + 1, epochs + 1):
    time.sleep(0.05)
    sink(make_event("batch", epoch=epoch, epochs=epochs, step=1, steps=1, metrics={"loss": 1.0 / epoch}, eta_s=1.0))
    sink(make_event("epoch", epoch=epoch, epochs=epochs, eta_s=0.1 * (epochs - epoch),
                    metrics={"loss": 1.0 / epoch, "val_loss": 1.2 / epoch, "dice": epoch / epochs}))
if "--crash" in sys.argv:  # a bug: a traceback on stderr and no error event
    raise RuntimeError("simulated bug in the worker")
if "--fail" in sys.argv:
    sink(make_event("error", where="train.epochs", what="Something the user can fix.", fix="Lower it."))
    sys.exit(2)
if "--evaluate" in sys.argv:
    sink(make_event("done", run=run_dir, epochs_completed=epochs, best_epoch=epochs, best_value=1.2 / epochs,
                    monitor="val_loss", stopped_early=False))
    n_images = int(sys.argv[sys.argv.index("--evaluate") + 1])
    for step in range(1, n_images + 1):
        time.sleep(0.3)  # the app must show each step, not only the end
        sink(make_event("batch", job="evaluate", stage="evaluate", unit="image", step=step, total=n_images))
    time.sleep(0.5)
    sink(make_event("metric", split="test", name="AP@0.5", value=0.75))
    sink(make_event("done", stage="job", run=run_dir, metrics={"name": "AP@0.5", "value": 0.75}))
    sys.exit(0)
sink(make_event("done", run=run_dir, epochs_completed=epochs, best_epoch=epochs, best_value=1.2 / epochs,
                monitor="val_loss", stopped_early=False))

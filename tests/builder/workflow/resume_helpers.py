"""Run ``cellwright train`` in a subprocess and SIGKILL it at a chosen event (for resume tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from builder.events import parse_event_line

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
CLI = [sys.executable, "-m", "builder.cli.main", "train"]


def train_cli(*args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    """``cellwright train ARGS --events``, run to the end."""
    return subprocess.run([*CLI, *args, "--events"], capture_output=True, text=True, env=ENV, timeout=timeout)


def train_until(stop: Callable[[dict], bool], *args: str, timeout: float = 300) -> list[dict]:
    """Start ``cellwright train ARGS --events``; SIGKILL it as soon as ``stop(event)`` is true; return the events."""
    process = subprocess.Popen([*CLI, *args, "--events"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=ENV)
    events: list[dict] = []
    deadline = time.time() + timeout
    try:
        for line in process.stdout:
            event = parse_event_line(line)
            if event is None:
                continue
            events.append(event)
            if stop(event):
                process.send_signal(signal.SIGKILL)
                break
            assert time.time() < deadline, "training did not reach the kill point in time"
        else:
            raise AssertionError(f"the run ended (rc={process.wait()}) before the kill point; events: {events[-3:]}")
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return events


def only_run(runs: Path) -> Path:
    (run,) = list(runs.iterdir())
    return run


def history_without_times(run: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "time_s"} for row in json.loads((run / "history.json").read_text())]


def events_of(result: subprocess.CompletedProcess) -> list[dict]:
    return [e for e in map(parse_event_line, result.stdout.splitlines()) if e]

"""The disk fills up during a checkpoint save: a clear error (exit 2, no traceback), then --resume goes on.

As root the run folder lives on a real, tiny tmpfs that the test fills while the training process is paused
(SIGSTOP) after its first epoch. Without root (no mount), the same CLI runs with Keras' ``Model.save`` raising
``OSError(ENOSPC)`` from its second call on, injected in that subprocess only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.events import parse_event_line
from tests.builder.workflow.resume_helpers import CLI, ENV, history_without_times, only_run, train_cli
from tests.builder.workflow.train_fixtures import tiny_recipe

pytestmark = pytest.mark.slow

_FULL_AFTER_FIRST_SAVES = """
import errno, sys, keras
from builder.cli.main import main
original, calls = keras.Model.save, []
def save(self, *args, **kwargs):
    calls.append(1)
    if len(calls) > 2:  # epoch 1 wrote its best candidate and checkpoint; then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")
    return original(self, *args, **kwargs)
keras.Model.save = save
sys.exit(main(sys.argv[1:]))
"""


@contextlib.contextmanager
def tiny_disk(folder: Path) -> Iterator[bool]:
    """Mount a 32 MB tmpfs on ``folder`` when allowed; yield whether it is mounted."""
    folder.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32M", "tmpfs", str(folder)], capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler.bin"
    with contextlib.suppress(OSError), open(filler, "wb") as handle:
        while True:
            handle.write(b"\0" * (1 << 20))
    return filler


def _train_until_disk_full(recipe: Path, disk: Path, real_disk: bool) -> tuple[subprocess.Popen, str, Path | None]:
    args = ["train", str(recipe), "--runs", str(disk / "runs"), "--events", "--no-report", "--no-export"]
    command = [*CLI, *args[1:]] if real_disk else [sys.executable, "-c", _FULL_AFTER_FIRST_SAVES, *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    filler = None
    for line in process.stdout:
        event = parse_event_line(line)
        if real_disk and event and event["event"] == "epoch":
            process.send_signal(signal.SIGSTOP)  # epoch 1 is saved; fill the disk before epoch 2 saves
            filler = _fill(disk)
            process.send_signal(signal.SIGCONT)
            break
    stderr = process.communicate(timeout=300)[1]
    return process, stderr, filler


def test_disk_full_during_checkpoint_says_so_and_resume_continues(tmp_path: Path):
    recipe = tiny_recipe(tmp_path, "segmentation", epochs=3)
    with tiny_disk(tmp_path / "disk") as real_disk:
        process, stderr, filler = _train_until_disk_full(recipe, tmp_path / "disk", real_disk)
        assert process.returncode == 2, stderr[-3000:]
        run = only_run(tmp_path / "disk" / "runs")
        assert "Traceback" not in stderr and "bug" not in stderr
        assert "The disk is full" in stderr and "No space left on device" in stderr
        assert f"{run}/checkpoints/" in stderr and " MB is free on the disk holding " in stderr
        assert "one epoch needs about " in stderr and "Free at least " in stderr
        assert f"cellwright train --resume {run}" in stderr and "(epoch 1, epoch-0001.keras)" in stderr
        state = json.loads((run / "state.json").read_text())
        assert state["epoch"] == 1
        assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]  # no half file

        if filler is not None:
            filler.unlink()  # the user frees space
        resumed = train_cli("--resume", str(run), "--no-report", "--no-export")
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert [row["epoch"] for row in history_without_times(run)] == [1, 2, 3]
        assert json.loads((run / "state.json").read_text())["epoch"] == 3

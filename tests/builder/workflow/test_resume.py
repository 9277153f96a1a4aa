"""``cellwright train --resume`` after a SIGKILL: the same result as a run that was never interrupted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.builder.workflow.resume_helpers import (
    events_of,
    history_without_times,
    only_run,
    train_cli,
    train_until,
)
from tests.builder.workflow.train_fixtures import tiny_recipe

pytestmark = pytest.mark.slow


def _weights(checkpoint: Path) -> list[np.ndarray]:
    import keras

    return keras.saving.load_model(checkpoint, compile=False).get_weights()


@pytest.mark.parametrize(("task", "extra"), [
    ("instance_segmentation", {}),
    ("image_to_image", {"self_supervised": True, "loss": "mse"}),  # blind-spot masks drawn in the pipeline
], ids=["instances", "n2v"])
def test_killed_and_resumed_run_equals_uninterrupted_run(tmp_path: Path, task: str, extra: dict):
    # 4 training images x 2 patches = 8 patches per generator pass; an epoch is 3 x 4 = 12 patches.
    recipe = tiny_recipe(tmp_path, task, epochs=5, extra_train={"steps_per_epoch": 3, **extra})
    flags = ("--no-report", "--no-export")
    full = train_cli(str(recipe), "--runs", str(tmp_path / "full"), *flags)
    assert full.returncode == 0, full.stderr[-3000:]
    train_until(lambda e: e["event"] == "epoch" and e["epoch"] == 2, str(recipe), "--runs", str(tmp_path / "cut"),
                *flags)
    cut = only_run(tmp_path / "cut")
    stopped_at = json.loads((cut / "state.json").read_text())["epoch"]
    assert 2 <= stopped_at < 5
    resumed = train_cli("--resume", str(cut), *flags)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    reference = only_run(tmp_path / "full")
    expected, got = history_without_times(reference), history_without_times(cut)
    assert [row["epoch"] for row in got] == [1, 2, 3, 4, 5]
    assert got == expected  # losses, validation losses and learning rates, bit for bit
    for name in ("last.keras", "best.keras"):
        for a, b in zip(_weights(reference / "checkpoints" / name), _weights(cut / "checkpoints" / name),
                        strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_kill_during_evaluation_resumes_the_missing_stages(tmp_path: Path):
    recipe = tiny_recipe(tmp_path, "segmentation", epochs=2)
    text = recipe.read_text().replace("formats: []", "formats: [bundle]")
    recipe.write_text(text)
    train_until(lambda e: e["event"] == "log" and e["message"].startswith("Evaluating"), str(recipe),
                "--runs", str(tmp_path / "runs"), "--no-report")
    run = only_run(tmp_path / "runs")
    assert json.loads((run / "state.json").read_text())["epoch"] == 2
    assert not (run / "exports").exists()

    resumed = train_cli("--resume", str(run), "--no-report")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    events = events_of(resumed)
    assert not [e for e in events if e["event"] in ("epoch", "start")]  # training is not repeated
    assert json.loads((run / "metrics.json").read_text())["task"] == "segmentation"
    assert [e["kind"] for e in events if e["event"] == "artifact"] == ["export"]
    assert list((run / "exports").glob("*.zip"))
    assert json.loads((run / "stages.json").read_text())["finished"] == ["evaluate", "export"]

    again = train_cli("--resume", str(run), "--no-report")
    assert again.returncode == 2
    assert "already finished: 2 of 2 epochs, then evaluate, export" in again.stderr
    assert "start a new run" in again.stderr.lower() and "Traceback" not in again.stderr

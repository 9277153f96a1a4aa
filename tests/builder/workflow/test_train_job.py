"""End to end: a tiny run of every task trains, checkpoints, evaluates and records everything in its run folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from builder.errors import DataError
from builder.events import parse_event_line
from builder.recipe import load_recipe
from builder.tasks import get_task
from builder.workflow.onnx_cache import FRESH, UNSUPPORTED, open_copy
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
@pytest.mark.parametrize("task", ["classification", "segmentation", "instance_segmentation", "image_to_image",
                                  "tracking"])
def test_tiny_run_of_every_task(task: str, tmp_path: Path):
    events: list[dict] = []
    outcome = train_recipe(tiny_recipe(tmp_path, task), runs_dir=tmp_path / "runs", events=events.append)
    run = outcome.run_dir
    for name in ("recipe.yaml", "split.json", "environment.json", "events.jsonl", "history.csv", "history.json",
                 "state.json", "metrics.json", "normalization.json", "data_check.json", "model_summary.json"):
        assert (run / name).is_file(), name
    assert (run / "checkpoints" / "best.keras").is_file() and (run / "checkpoints" / "last.keras").is_file()
    assert load_recipe(run / "recipe.yaml").task == task
    copy = open_copy(run, run / "checkpoints" / "best.keras", load_recipe(run / "recipe.yaml"))  # predict's ONNX copy
    assert copy.status == (UNSUPPORTED if get_task(task).time_lapse else FRESH), copy.reason
    split = json.loads((run / "split.json").read_text())
    assert split["train"] and split["test"]
    assert not set(map(str, split["train"])) & set(map(str, split["test"]))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == task and metrics["n_images"] == len(split["test"])
    assert np.isfinite(metrics["headline"]["value"])
    kinds = [e["event"] for e in events]
    assert kinds.index("start") < kinds.index("epoch") < kinds.index("metric") < len(kinds) - 1
    assert kinds[-1] == "done"
    scored = [e["step"] for e in events if e["event"] == "batch" and e.get("job") == "evaluate"
              and e["stage"] == "evaluate"]
    assert scored == list(range(1, len(split["test"]) + 1))  # the evaluation after training shows image i of n


def test_training_refuses_broken_data(tmp_path: Path):
    recipe = tiny_recipe(tmp_path, "segmentation")
    mask = sorted((tmp_path / "data" / "masks").iterdir())[0]
    mask.unlink()
    (tmp_path / "data" / "masks" / "stray.tif").write_bytes(b"not a tiff")
    with pytest.raises(DataError, match="training did not start"):
        train_recipe(recipe, runs_dir=tmp_path / "runs")
    run = next((tmp_path / "runs").iterdir())
    findings = json.loads((run / "data_check.json").read_text())
    assert any(f["severity"] == "error" for f in findings)
    assert not (run / "checkpoints" / "last.keras").exists()


@pytest.mark.slow
def test_cli_run_killed_mid_training_resumes(tmp_path: Path):
    recipe = tiny_recipe(tmp_path, "instance_segmentation", epochs=4)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "builder.cli.main", "train", str(recipe), "--runs", str(tmp_path / "runs"),
               "--events", "--no-report", "--no-export"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    epochs_seen = 0
    deadline = time.time() + 240
    for line in process.stdout:
        event = parse_event_line(line)
        if event and event["event"] == "epoch":
            epochs_seen += 1
            if epochs_seen == 2:
                process.send_signal(signal.SIGKILL)
                break
        assert time.time() < deadline
    process.wait(timeout=30)
    run = next((tmp_path / "runs").iterdir())
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 2
    result = subprocess.run([*command[:4], "--resume", str(run), "--events", "--no-report", "--no-export"],
                            capture_output=True, text=True, env=env, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    events = [e for e in map(parse_event_line, result.stdout.splitlines()) if e]
    start = next(e for e in events if e["event"] == "start")
    assert start["initial_epoch"] == 2 and start["resumed"] is True
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [3, 4]
    history = json.loads((run / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert json.loads((run / "metrics.json").read_text())["task"] == "instance_segmentation"


@pytest.mark.slow
@pytest.mark.parametrize("settings", [{"precision": "mixed_float16"}, {"distribute": "mirrored"}],
                         ids=["mixed_precision", "mirrored_strategy"])
def test_gpu_code_paths_run_on_cpu(settings: dict, tmp_path: Path):
    """Mixed precision and MirroredStrategy are what 'auto' picks on GPUs; forced here, they must run on a CPU."""
    import keras

    try:
        outcome = train_recipe(tiny_recipe(tmp_path, "instance_segmentation", extra_train=settings),
                               runs_dir=tmp_path / "runs", report=False, export=False)
        state = json.loads((outcome.run_dir / "state.json").read_text())
        runtime = state.get("runtime") or {}
        if "precision" in settings:
            assert runtime["precision"] == "mixed_float16"
        else:
            assert runtime["strategy"] == "mirrored"
        assert np.isfinite(json.loads((outcome.run_dir / "metrics.json").read_text())["headline"]["value"])
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.slow
def test_one_train_discovers_the_dataset_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Discovery runs once per run; data check, datasets, evaluation and report reuse its ``Dataset``."""
    import builder.data.layouts as layouts

    original, calls = layouts.discover, []

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    # Every module that bound the function by name (``from ... import discover``) gets the wrapper too.
    for name, module in list(sys.modules.items()):
        if name.startswith("builder") and getattr(module, "discover", None) is original:
            monkeypatch.setattr(module, "discover", counting)
    recipe = load_recipe(tiny_recipe(tmp_path, "instance_segmentation"))
    recipe = recipe.model_copy(update={"report": recipe.report.model_copy(update={"enabled": True})})
    outcome = train_recipe(recipe, runs_dir=tmp_path / "runs", export=False)
    assert outcome.metrics and outcome.reports
    assert len(calls) == 1

"""The best checkpoint and early stopping follow the task's headline metric on the validation images (tiny real
runs on demo data); the validation loss stays selectable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from builder.tasks import get_task
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe


def _run(tmp_path: Path, task: str, **train) -> tuple[Path, list[dict], dict]:
    path = tiny_recipe(tmp_path, task, epochs=4, extra_train={"optimizer": {"learning_rate": 0.01}, **train})
    outcome = train_recipe(path, runs_dir=tmp_path / "runs", evaluate=False, report=False, export=False)
    history = json.loads((outcome.run_dir / "history.json").read_text())
    state = json.loads((outcome.run_dir / "state.json").read_text())
    return outcome.run_dir, history, state


@pytest.mark.parametrize("task", ["classification", "instance_segmentation", "image_to_image"])
def test_best_checkpoint_is_the_epoch_with_the_best_validation_headline(task: str, tmp_path: Path):
    from builder.model_files.safe_import import load_keras_safely
    from builder.run_folder import RunFolder
    from builder.workflow.validation_score import validation_score

    run_dir, history, state = _run(tmp_path, task)
    key = "val_" + get_task(task).headline[1]
    values = [row[key] for row in history]
    assert len(values) == 4 and state["monitor"] == key
    # the best value; among epochs that tie it, the one with the lowest validation loss
    top = max(values)
    tied = [i for i, value in enumerate(values) if abs(value - top) <= 1e-9]
    best = min(tied, key=lambda i: history[i]["val_loss"])
    assert state["best_epoch"] == history[best]["epoch"]
    assert state["best"] == pytest.approx(values[best])
    # the kept checkpoint scores that value again on the validation images
    from builder.data.layouts import discover

    run = RunFolder(run_dir)
    recipe = run.read_recipe()
    info = run.read_data_info().to_dict()
    scorer = validation_score(recipe, discover(recipe, recipe.base_dir), info, run.read_normalization().to_dict())
    assert scorer(load_keras_safely(run.best_checkpoint)) == pytest.approx(values[best], abs=1e-4)


def test_validation_loss_stays_selectable(tmp_path: Path):
    _, history, state = _run(tmp_path, "classification", early_stopping={"enabled": False, "monitor": "val_loss"})
    losses = [row["val_loss"] for row in history]
    assert state["monitor"] == "val_loss"
    assert "val_balanced_accuracy" not in history[0]
    assert state["best_epoch"] == history[int(np.argmin(losses))]["epoch"]

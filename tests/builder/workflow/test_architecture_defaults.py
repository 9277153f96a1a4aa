"""Runs and models made before a block default changed keep working: a resumed run continues the architecture in
its checkpoint, and a new version fine-tuned from an earlier model (same ``model:`` section) starts from it.

The default that changed: the star-convex head's hidden features (64, then 32). The tests make the difference by
editing ``model.params`` in the run's recipe.yaml, which builds other weight shapes just as a changed default does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from builder.errors import WeightsError
from tests.builder.workflow.resume_helpers import only_run, train_cli, train_until
from tests.builder.workflow.train_fixtures import tiny_recipe


def _set_filters(recipe: Path, filters: int) -> None:
    data = yaml.safe_load(recipe.read_text())
    data["model"].setdefault("params", {})["base_filters"] = filters
    recipe.write_text(yaml.safe_dump(data, sort_keys=False))


def _weights(checkpoint: Path) -> list[np.ndarray]:
    import keras

    return keras.saving.load_model(checkpoint, compile=False).get_weights()


@pytest.mark.slow
def test_a_resumed_run_continues_the_architecture_of_its_checkpoint(tmp_path: Path):
    recipe = tiny_recipe(tmp_path, "instance_segmentation", epochs=3,
                         extra_train={"instance_target": "star_convex"})
    _set_filters(recipe, 4)
    flags = ("--no-report", "--no-export")
    train_until(lambda e: e["event"] == "epoch" and e["epoch"] == 1, str(recipe), "--runs", str(tmp_path / "runs"),
                *flags)
    run = only_run(tmp_path / "runs")
    state = json.loads((run / "state.json").read_text())
    assert 1 <= state["epoch"] < 3
    trained_shapes = [w.shape for w in _weights(run / "checkpoints" / state["checkpoint"])]
    _set_filters(run / "recipe.yaml", 8)  # the unchanged recipe now builds other weight shapes

    resumed = train_cli("--resume", str(run), *flags)

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((run / "state.json").read_text())["epoch"] == 3
    assert [w.shape for w in _weights(run / "checkpoints" / "last.keras")] == trained_shapes


@pytest.mark.slow
def test_a_new_version_trained_from_an_earlier_run_keeps_its_architecture(tmp_path: Path):
    recipe = tiny_recipe(tmp_path, "instance_segmentation", extra_train={"instance_target": "star_convex"})
    _set_filters(recipe, 4)
    first = train_cli(str(recipe), "--runs", str(tmp_path / "first"), "--no-report", "--no-export")
    assert first.returncode == 0, first.stderr[-3000:]
    earlier = only_run(tmp_path / "first")
    shapes = [w.shape for w in _weights(earlier / "checkpoints" / "best.keras")]
    _set_filters(earlier / "recipe.yaml", 8)  # its recorded model: section now builds 8-filter weights
    _set_filters(recipe, 8)
    data = yaml.safe_load(recipe.read_text())
    data["train"]["init_from"] = str(earlier)
    recipe.write_text(yaml.safe_dump(data, sort_keys=False))

    second = train_cli(str(recipe), "--runs", str(tmp_path / "second"), "--no-report", "--no-export")

    assert second.returncode == 0, second.stderr[-3000:]
    assert [w.shape for w in _weights(only_run(tmp_path / "second") / "checkpoints" / "last.keras")] == shapes


def _models(tmp_path: Path):
    """A trained-looking model saved to a file (4 filters) and a fresh model of another width (8 filters)."""
    from builder.compile import compile_recipe_model
    from builder.recipe import load_recipe

    recipe = tiny_recipe(tmp_path, "instance_segmentation", extra_train={"instance_target": "star_convex"})
    _set_filters(recipe, 4)
    old = compile_recipe_model(load_recipe(recipe), (32, 32, 1))
    path = tmp_path / "old.keras"
    old.save(path)
    _set_filters(recipe, 8)
    return old, path, compile_recipe_model(load_recipe(recipe), (32, 32, 1))


def test_fine_tuning_with_the_same_model_section_starts_from_the_earlier_model(tmp_path: Path):
    from builder.workflow.init_weights import checkpoint_architecture, copy_weights

    old, path, new = _models(tmp_path)

    started = copy_weights(path, new, same_model_section=True)

    assert [w.shape for w in started.weights] == [w.shape for w in old.weights]
    for a, b in zip(started.get_weights(), old.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert checkpoint_architecture(new, path) is not new
    assert checkpoint_architecture(old, path) is old  # weights that fit: the recipe's own model


def test_fine_tuning_another_model_section_is_still_refused(tmp_path: Path):
    from builder.workflow.init_weights import copy_weights

    _old, path, new = _models(tmp_path)

    with pytest.raises(WeightsError, match="do not fit the recipe's model"):
        copy_weights(path, new)


@pytest.mark.slow
def test_a_resume_whose_checkpoint_is_gone_names_it_and_the_fix(tmp_path: Path):
    recipe = tiny_recipe(tmp_path, "instance_segmentation", epochs=3,
                         extra_train={"instance_target": "star_convex"})
    flags = ("--no-report", "--no-export")
    train_until(lambda e: e["event"] == "epoch" and e["epoch"] == 1, str(recipe), "--runs", str(tmp_path / "runs"),
                *flags)
    run = only_run(tmp_path / "runs")
    (run / "checkpoints" / json.loads((run / "state.json").read_text())["checkpoint"]).unlink()

    resumed = train_cli("--resume", str(run), *flags)

    assert resumed.returncode != 0
    assert "checkpoint named in state.json is missing" in resumed.stderr + resumed.stdout
    assert "fine-tune" not in resumed.stderr + resumed.stdout
    assert "Traceback" not in resumed.stderr

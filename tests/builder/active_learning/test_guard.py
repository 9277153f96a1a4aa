"""The guard keeps the current model unless the retrained one is not worse on the guard images."""

from __future__ import annotations

import math

import pytest

from builder.active_learning.guard import judge
from builder.active_learning.versions import add_version, current_run, read_versions


def test_judge_refuses_a_worse_model_and_says_by_how_much():
    decision = judge(0.80, 0.72, metric="balanced accuracy", n_images=5)
    assert not decision.accepted and decision.winner == "current"
    assert decision.difference == pytest.approx(-0.08)
    assert decision.sentence() == ("The current model stays; the retrained model is kept aside: balanced accuracy "
                                   "on 5 guard image(s) 0.720 vs 0.800 (worse by 0.080).")


def test_judge_accepts_equal_or_better_and_within_tolerance():
    assert judge(0.8, 0.8, metric="m", n_images=3).accepted
    assert judge(0.8, 0.85, metric="m", n_images=3).winner == "new"
    assert judge(0.8, 0.79, metric="m", n_images=3, tolerance=0.02).accepted
    assert not judge(0.8, 0.79, metric="m", n_images=3).accepted
    assert judge(0.30, 0.25, metric="error", n_images=3, higher_is_better=False).accepted
    assert not judge(0.8, math.nan, metric="m", n_images=0).accepted
    with pytest.raises(ValueError, match="Expected a float >= 0"):
        judge(0.8, 0.9, metric="m", n_images=3, tolerance=-1)


def test_versions_table_keeps_current_on_the_newest_accepted(tmp_path):
    add_version(tmp_path, {"run": "runs/b", "parent": "runs/a", "n_annotations": 12, "guard_score": "0.7",
                           "parent_guard_score": "0.6", "accepted": True, "parent_n_annotations": 8})
    add_version(tmp_path, {"run": "runs/c", "parent": "runs/b", "n_annotations": 16, "guard_score": "0.65",
                           "parent_guard_score": "0.7", "accepted": False})
    rows = read_versions(tmp_path)
    assert [(r["version"], r["run"], r["n_annotations"], r["accepted"]) for r in rows] == [
        ("1", "runs/a", "8", "yes"), ("2", "runs/b", "12", "yes"), ("3", "runs/c", "16", "no")]
    assert current_run(tmp_path) == "runs/b"


def _brightness_data(tmp_path):
    """class_folders data: 'dim' and 'bright' 16x16 crops, and a recipe that leaves intensities as they are."""
    import numpy as np
    import tifffile
    import yaml

    rng = np.random.default_rng(0)
    for name, level in (("bright", 200), ("dim", 40)):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(4):
            image = np.clip(rng.normal(level, 10, (16, 16)), 0, 255).astype(np.uint8)
            tifffile.imwrite(tmp_path / "data" / name / f"{name}_{i}.tif", image)
    recipe = {"cellwright": 1, "name": "bright", "task": "classification",
              "data": {"root": str(tmp_path / "data"), "layout": "class_folders", "classes": ["bright", "dim"]},
              "preprocess": {"image_size": 16, "normalize": {"method": "fixed", "fixed_min": 0, "fixed_max": 255}},
              "model": {"template": "classifier", "params": {"depth": 1, "base_filters": 2}}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _brightness_model(bright_first: bool):
    """Softmax over (bright, dim) from the mean intensity; ``bright_first=False`` swaps the answers (a bad model)."""
    import keras
    import numpy as np

    inputs = keras.Input((16, 16, 1))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inputs))
    model = keras.Model(inputs, outputs)
    sign = 1.0 if bright_first else -1.0
    model.layers[-1].set_weights([np.array([[10.0 * sign, -10.0 * sign]], np.float32),
                                  np.array([-5.0 * sign, 5.0 * sign], np.float32)])
    return model


def test_guard_refuses_a_worse_real_model(tmp_path):
    from builder.active_learning.guard import guard_score
    from builder.data.layouts import discover
    from builder.recipe import load_recipe

    recipe = load_recipe(_brightness_data(tmp_path))
    guard = [s for _, s in discover(recipe, recipe.base_dir).samples()]
    metric, current, higher = guard_score(_brightness_model(True), recipe, guard, class_names=["bright", "dim"])
    _, worse, _ = guard_score(_brightness_model(False), recipe, guard, class_names=["bright", "dim"])
    assert (metric, current, worse, higher) == ("Balanced accuracy", 1.0, 0.0, True)
    decision = judge(current, worse, metric=metric, n_images=len(guard), higher_is_better=higher)
    assert not decision.accepted and decision.difference == pytest.approx(-1.0)
    assert judge(worse, current, metric=metric, n_images=len(guard)).accepted

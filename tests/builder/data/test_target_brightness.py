"""Restored images come back at the target's brightness: the input-to-target statistics relation is learned on
the training pairs (per-image normalisation) and used to map outputs back to intensities."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.layouts import discover
from builder.data.normalize import output_stats, relate_stats, stats_from_config, target_relation
from builder.recipe.sections.preprocess import Normalize
from tests.builder.workflow.predict_helpers import identity_model, make_recipe, write_tiff


def _pairs(n: int = 4, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:48, :48]
    inputs, targets = [], []
    for i in range(n):
        clean = (400 + 300 * i + 250 * np.sin(yy / (4.0 + i)) * np.cos(xx / 6.0)).astype(np.float32)
        inputs.append((clean + rng.normal(0, 120, clean.shape)).astype(np.float32)[..., None])  # wider: noise
        targets.append(clean[..., None])
    return inputs, targets


def test_relation_predicts_the_targets_statistics_better_than_the_inputs_own():
    cfg = Normalize(method="percentile", low=1.0, high=99.8)
    inputs, targets = _pairs()
    relation = target_relation(inputs, targets, cfg, cfg)
    held_in, held_target = _pairs(2, seed=9)
    for x, t in zip(held_in, held_target, strict=True):
        truth, own = stats_from_config([t], cfg), stats_from_config([x], cfg)
        guess = relate_stats(own, relation)
        assert abs(guess.scale - truth.scale).max() < 0.5 * abs(own.scale - truth.scale).max()
        assert abs(guess.offset - truth.offset).max() < 0.5 * abs(own.offset - truth.offset).max()


def test_output_stats_prefers_dataset_target_stats_then_the_relation():
    used = stats_from_config([np.arange(100, dtype=np.float32).reshape(10, 10, 1)], Normalize(method="minmax"))
    relation = {"offset": [0.5], "scale": [2.0]}
    mapped = output_stats({"normalize": None, "target_normalize": None, "target_from_input": relation}, used)
    assert mapped.offset == pytest.approx(used.offset + 0.5 * used.scale) and mapped.scale == pytest.approx(
        2.0 * used.scale)
    fixed = output_stats({"target_normalize": {"offset": [3.0], "scale": [7.0]}, "target_from_input": relation}, used)
    assert fixed.offset.tolist() == [3.0] and fixed.scale.tolist() == [7.0]
    assert output_stats(None, used) is used


def test_training_records_the_relation_and_predict_uses_it(tmp_path):
    from builder.data.pipeline import make_training_datasets
    from builder.workflow.inference import predict_image

    inputs, targets = _pairs(6)
    for i, (x, t) in enumerate(zip(inputs, targets, strict=True)):
        write_tiff(tmp_path / "train" / "images" / f"p{i}.tif", x[..., 0])
        write_tiff(tmp_path / "train" / "targets" / f"p{i}.tif", t[..., 0])
    recipe = make_recipe("image_to_image", tmp_path)
    recipe = recipe.model_copy(update={"preprocess": recipe.preprocess.model_copy(
        update={"normalize": Normalize(method="percentile")})})
    _, _, info = make_training_datasets(recipe, discover(recipe, tmp_path), batch_size=2)
    relation = info["target_from_input"]
    assert relation is not None and relation["scale"][0] < 1.0  # the clean target's range is narrower
    held_in, held_target = _pairs(1, seed=4)
    normalization = {"normalize": None, "target_normalize": None, "target_from_input": relation}
    # The identity model outputs its normalised input, so mapping back shows which statistics were used.
    with_relation = predict_image(identity_model(), held_in[0], recipe, norm_stats=normalization)
    without = predict_image(identity_model(), held_in[0], recipe)
    truth = held_target[0]
    p99 = lambda a: float(np.percentile(a, 99.8))  # noqa: E731
    assert abs(p99(with_relation["restored_intensity"]) - p99(truth)) < abs(p99(without["restored_intensity"])
                                                                             - p99(truth))


def test_validate_warns_about_per_image_target_normalisation():
    from pathlib import Path

    from builder.recipe import validate_file

    examples = Path(__file__).resolve().parents[3] / "recipes" / "examples"
    _, problems = validate_file(examples / "denoise.yaml")
    warned = [p for p in problems if p.severity == "warning" and p.key.endswith("normalize.per")]
    assert warned and "target_normalize" in warned[0].fix
    _, problems = validate_file(examples / "denoise_n2v.yaml")  # self-supervised: the target is the input
    assert not [p for p in problems if p.key.endswith("normalize.per")]

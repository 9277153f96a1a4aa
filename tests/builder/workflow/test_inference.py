"""Whole-image inference: tiling, normalisation, every task's result."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.normalize import NormStats
from builder.workflow.inference import network_output, predict_image, prepare, resolve_norm_stats
from tests.builder.workflow.predict_helpers import (
    brightness_classifier,
    conv_net,
    disk_image,
    disk_labels,
    identity_model,
    make_recipe,
    threshold_model,
)


def test_tiled_prediction_matches_whole_image_away_from_borders():
    model = conv_net(n_in=1, n_out=3, seed=4)
    recipe = make_recipe("segmentation")  # 32 px tiles, 12 px overlap: 3 px ignored margin >= receptive radius
    x = np.random.default_rng(0).random((100, 90, 1)).astype(np.float32)
    tiled = network_output(model, x, recipe)
    whole = np.asarray(model.predict_on_batch(x[None]))[0]
    assert tiled.shape == (100, 90, 3)
    assert np.abs(tiled[:-4, :-4] - whole[:-4, :-4]).max() < 1e-4
    assert np.allclose(tiled.sum(-1), 1.0, atol=1e-5)  # blended softmax stays a probability


def test_small_image_uses_one_padded_tile():
    model = conv_net(n_in=1, n_out=2, seed=1)
    recipe = make_recipe("segmentation")
    x = np.random.default_rng(1).random((13, 21, 1)).astype(np.float32)
    out = network_output(model, x, recipe)
    whole = np.asarray(model.predict_on_batch(x[None]))[0]
    assert out.shape == (13, 21, 2)
    assert np.abs(out[:-4, :-4] - whole[:-4, :-4]).max() < 1e-4


def test_segmentation_mask_and_probabilities_from_a_raw_image():
    labels = disk_labels()
    result = predict_image(threshold_model(2), disk_image(labels), make_recipe("segmentation"))
    assert result["task"] == "segmentation"
    assert result["probabilities"].shape == (48, 56, 2)
    np.testing.assert_array_equal(result["mask"], (labels > 0).astype(np.int32))
    assert result["prediction"] is result["mask"]


def test_instance_labels_separate_the_objects():
    labels = disk_labels()
    result = predict_image(threshold_model(3), disk_image(labels), make_recipe("instance_segmentation"),
                           postprocess={"min_size": 5})
    pred = result["labels"]
    assert pred.max() == 3
    for i in range(1, 4):  # each true object is exactly one predicted object
        values = np.unique(pred[labels == i])
        assert len(values) == 1 and values[0] > 0
        assert np.array_equal(pred == values[0], labels == i)


def test_min_size_from_postprocess_removes_small_objects():
    labels = disk_labels()
    small = int((labels == 3).sum())  # radius-4 disk, 49 px
    result = predict_image(threshold_model(3), disk_image(labels), make_recipe("instance_segmentation"),
                           postprocess={"min_size": small + 1})
    assert result["labels"].max() == 2
    assert result["postprocess"]["min_size"] == small + 1


def test_classification_resizes_and_uses_dataset_statistics():
    recipe = make_recipe("classification")
    model = brightness_classifier(16)
    bright = np.full((40, 30, 1), 900, np.uint16)
    bright[:5] = 100
    dim = np.full((40, 30, 1), 100, np.uint16)
    dim[:5] = 900
    for image, expected in ((bright, 1), (dim, 0)):
        result = predict_image(model, image, recipe)
        assert result["class_index"] == expected
        assert result["probabilities"].shape == (2,)
        assert result["probabilities"].sum() == pytest.approx(1.0, abs=1e-5)
        assert result["input"].shape == (16, 16, 1)
    # with dataset statistics that map everything here above 0.5, both images are "bright"
    stats = {"normalize": {"offset": [0.0], "scale": [1000.0]}, "target_normalize": None}
    stats_low = {"normalize": {"offset": [-10000.0], "scale": [100.0]}, "target_normalize": None}
    assert predict_image(model, dim, recipe, norm_stats=stats)["class_index"] == 0
    assert predict_image(model, dim, recipe, norm_stats=stats_low)["class_index"] == 1


def test_image_to_image_restored_back_in_intensities():
    rng = np.random.default_rng(2)
    raw = (rng.random((40, 36, 1)) * 1000 + 50).astype(np.float32)
    result = predict_image(identity_model(), raw, make_recipe("image_to_image"))
    assert result["restored"].shape == (40, 36, 1)
    assert result["restored"].min() == pytest.approx(0.0, abs=1e-5)  # minmax-normalised units
    np.testing.assert_allclose(result["restored_intensity"], raw, rtol=1e-4, atol=1e-2)


def test_resampled_prediction_comes_back_at_the_image_size():
    labels = disk_labels()
    recipe = make_recipe("segmentation", pixel_size=0.5)
    recipe = recipe.model_copy(update={"preprocess": recipe.preprocess.model_copy(update={"resample_to": 1.0})})
    result = predict_image(threshold_model(2), disk_image(labels), recipe)
    assert result["input"].shape == (24, 28, 1)  # the network saw the image at 1 µm
    assert result["mask"].shape == labels.shape and result["probabilities"].shape == (48, 56, 2)
    assert np.mean(result["mask"] == (labels > 0)) > 0.95


def test_norm_stats_forms_and_prepare():
    assert resolve_norm_stats(None) == (None, None)
    s_in, s_t = resolve_norm_stats({"normalize": {"offset": [1.0], "scale": [2.0]},
                                    "target_normalize": {"offset": [0.0], "scale": [4.0]}})
    assert float(s_in.scale[0]) == 2.0 and float(s_t.scale[0]) == 4.0
    stats = NormStats(np.ones(1), np.full(1, 2.0))
    x, used = prepare(np.full((8, 8, 1), 5.0), make_recipe("segmentation"), stats=stats)
    assert np.allclose(x, 2.0) and float(used.offset[0]) == 1.0
    with pytest.raises(Exception, match="offset"):
        resolve_norm_stats({"mean": [1.0]})

"""Test-time augmentation (evaluate.postprocess.tta): the mean over the eight flips and quarter turns, still exact
with tiles and object scale, refused for outputs with directions. Real Keras models from the templates."""

from __future__ import annotations

import numpy as np
import pytest

from builder.errors import RecipeError
from builder.recipe import recipe_from_dict
from builder.workflow.inference import full_resolution_output, network_output, prepare, tiling

keras = pytest.importorskip("keras")


def _recipe(tta: bool, whole_image: bool = False, target: str = "three_class", **pre):
    return recipe_from_dict({
        "name": "tta", "task": "instance_segmentation",
        "data": {"root": ".", "masks": "masks", "split": {"mode": "folders"}},
        "preprocess": {"normalize": {"method": "none"}, "tile": {"size": 32, "overlap": 8, "whole_image": whole_image},
                       **pre},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 4}},
        "train": {"instance_target": target},
        "evaluate": {"postprocess": {"tta": tta}},
    })


def _model():
    from builder.compile import compile_recipe_model

    keras.utils.set_random_seed(5)
    return compile_recipe_model(_recipe(False), (None, None, 1))


def _by_hand(model, x):
    """The eight turned copies through the network in one piece each (Keras directly), turned back, averaged."""
    outs = []
    for k in range(4):
        for flip in (False, True):
            t = np.rot90(x, k, axes=(0, 1))
            t = t[:, ::-1] if flip else t
            y = np.asarray(model.predict_on_batch(np.ascontiguousarray(t)[None]))[0]
            y = y[:, ::-1] if flip else y
            outs.append(np.rot90(y, -k, axes=(0, 1)))
    return np.mean(outs, axis=0)


def test_tta_is_the_mean_of_the_eight_turned_outputs_also_when_tiled():
    model = _model()
    tiled = _recipe(True)
    side = tiling(model, (4096, 4096), tiled).tile[0]  # tiles widened to the receptive field
    shape = ((side + side // 2) // 4 * 4 + 8, (2 * side) // 4 * 4 - 12)  # not square; multiples of 4 for Keras
    x = np.random.default_rng(1).random((*shape, 1)).astype(np.float32)
    plan = tiling(model, x.shape[:2], tiled)
    assert not plan.whole and x.shape[0] > plan.tile[0] and x.shape[1] > plan.tile[1]
    with_tta = network_output(model, x, tiled)
    expected = _by_hand(model, x)
    assert with_tta.shape == expected.shape == (*x.shape[:2], 3) and with_tta.dtype == np.float32
    assert np.abs(with_tta - expected).max() < 1e-4
    whole = network_output(model, x, _recipe(True, whole_image=True))
    assert np.abs(with_tta - whole).max() < 1e-4
    plain = network_output(model, x, _recipe(False))  # off: one pass, unchanged
    single = np.asarray(model.predict_on_batch(x[None]))[0]
    assert np.abs(plain - single).max() < 1e-4
    assert np.abs(plain - with_tta).max() > 1e-3  # an untrained network is far from turn-invariant


def test_tta_with_object_scale_averages_on_the_network_grid_then_returns_to_full_resolution():
    from builder.data.preprocess import resize_yx

    model = _model()
    raw = (np.random.default_rng(2).random((96, 88)) * 200).astype(np.float32)
    recipe = _recipe(True, object_diameter=30, target_diameter=15)
    out, x, _ = full_resolution_output(model, raw, recipe, diameter=30.0)
    assert x.shape[:2] == (48, 44) and out.shape == (96, 88, 3)
    expected = resize_yx(_by_hand(model, prepare(raw, recipe, diameter=30.0)[0]), raw.shape, order=1)
    assert np.abs(out - expected).max() < 1e-4
    off, x_off, _ = full_resolution_output(model, raw, _recipe(False, object_diameter=30, target_diameter=15),
                                           diameter=30.0)
    assert np.array_equal(x, x_off) and np.abs(off - out).max() > 1e-3


def test_tta_is_refused_for_star_convex_rays():
    with pytest.raises(RecipeError) as error:
        _recipe(True, target="star_convex")
    text = str(error.value)
    assert "evaluate.postprocess.tta" in text and "Received: tta=true" in text
    assert "instance_target=star_convex" in text and "Set evaluate.postprocess.tta: false" in text
    assert _recipe(False, target="star_convex").evaluate.postprocess.tta is False


def test_batched_and_streamed_prediction_keep_tta():
    from builder.workflow.inference import network_outputs
    from builder.workflow.stream_predict import can_stream

    model = _model()
    xs = [np.random.default_rng(i).random((32, 40, 1)).astype(np.float32) for i in range(3)]  # one shape
    recipe = _recipe(True, whole_image=True)
    batched = network_outputs(model, xs, recipe)
    for x, out in zip(xs, batched, strict=True):
        assert np.abs(out - _by_hand(model, x)).max() < 1e-4
    seg = recipe_from_dict({"name": "tta", "task": "segmentation", "data": {"root": ".", "masks": "masks",
                            "split": {"mode": "folders"}}, "evaluate": {"postprocess": {"tta": True}}})
    assert not can_stream(seg, None)
    assert can_stream(seg.model_copy(update={"evaluate": seg.evaluate.model_copy(update={
        "postprocess": seg.evaluate.postprocess.model_copy(update={"tta": False})})}), None)

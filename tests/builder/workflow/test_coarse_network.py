"""Prediction with a grid network (the U-Net's ``grid: 2``) from its output before the final repeat: the same
labels as from the whole network, with Keras and with the run's ONNX copy, one image or a batch. Real Keras
models compiled from recipes, real ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from builder.recipe import recipe_from_dict
from builder.tasks.zoomed_output import CoarseOutput, ZoomedOutput
from builder.workflow.coarse_network import coarse_keras_model, output_repeat, repeat_layer
from builder.workflow.inference import (
    finish_prediction,
    network_output,
    network_outputs,
    predict_image,
    prepare_image,
)
from tests.builder.workflow.predict_helpers import write_run

keras = pytest.importorskip("keras")


def _recipe(grid: int = 2, **preprocess):
    return recipe_from_dict({
        "name": "coarse", "task": "instance_segmentation",
        "data": {"root": ".", "masks": "masks", "split": {"mode": "folders"}},
        "preprocess": {"normalize": {"method": "minmax"}, **preprocess},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 4, "grid": grid}},
        "train": {"instance_target": "star_convex"},
    })


def _model(recipe, seed: int = 0):
    """The recipe's untrained network; a star-convex one with rays of a few pixels (untrained ones are near 0, too
    short for any polygon to be kept)."""
    from builder.compile import compile_recipe_model

    keras.utils.set_random_seed(seed)
    model = compile_recipe_model(recipe, (None, None, 1))
    if recipe.train.instance_target == "star_convex":
        rays = model.get_layer("head_rays")
        kernel, bias = rays.get_weights()
        scale = float(model.get_layer("head_pixels").scale)
        rays.set_weights([kernel * 2.0 / scale, bias + 4.0 / scale])
        probability = model.get_layer("head_probability")  # spread over (0, 1): no near ties at the threshold
        kernel, bias = probability.get_weights()
        probability.set_weights([kernel * 300.0, bias])
    return model


def _image(shape=(70, 90), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = rng.normal(100, 10, shape)
    for cy, cx, r in ((20, 20, 8), (45, 60, 10), (15, 70, 6)):
        image[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] += 500
    return image.astype(np.float32)


def _threshold(model, recipe, image) -> float:
    """A probability threshold that this untrained network's output crosses in about a tenth of the pixels."""
    _, x, _ = prepare_image(model, image, recipe)
    return float(np.quantile(network_output(model, x, recipe)[..., 0], 0.9))


def test_keras_grid_model_gives_its_output_before_the_repeat():
    plain, grid = _model(_recipe(grid=1)), _model(_recipe())
    assert repeat_layer(plain) is None and output_repeat(plain) == 1 and coarse_keras_model(plain) is plain
    assert output_repeat(grid) == 2
    coarse = coarse_keras_model(grid)
    assert coarse is coarse_keras_model(grid)  # made once
    x = np.random.default_rng(0).normal(size=(1, 32, 48, 1)).astype(np.float32)
    full, half = np.asarray(grid(x)), np.asarray(coarse(x))
    assert half.shape == (1, 16, 24, 33)
    np.testing.assert_allclose(np.repeat(np.repeat(half, 2, axis=1), 2, axis=2), full, atol=1e-6)


@pytest.mark.parametrize("scale", [None, 0.6])  # at the image's resolution; at object scale (rescaled)
def test_prediction_from_the_coarse_output_gives_the_whole_networks_labels(scale):
    extra = {} if scale is None else {"object_diameter": 10.0, "target_diameter": 10.0 * scale}
    recipe = _recipe(**extra)
    model = _model(recipe)
    image = _image()
    params = {"threshold": _threshold(model, recipe, image), "nms_threshold": 0.4, "min_size": 3}
    result = predict_image(model, image, recipe, postprocess=params)
    assert isinstance(result["output"], ZoomedOutput) and result["output"].repeat == 2
    raw, x, used = prepare_image(model, image, recipe)
    whole_output = network_output(model, x, recipe)
    # the whole network's output, taken one pixel per 2 x 2 block: the same numbers give the same labels
    sampled = CoarseOutput(whole_output[::2, ::2], 2, x.shape[:2])
    expected = finish_prediction(sampled, raw, x, used, recipe, postprocess=params)
    assert result["labels"].shape == image.shape and result["labels"].max() >= 3
    np.testing.assert_array_equal(result["labels"], expected["labels"])
    # several images in one call: the same outputs as one at a time
    xs = [prepare_image(model, _image(seed=s), recipe)[1] for s in range(3)]
    batched = network_outputs(model, xs, recipe, coarse=True)
    assert all(isinstance(out, CoarseOutput) for out in batched)
    for out, x_one in zip(batched, xs, strict=True):
        np.testing.assert_allclose(out.array(), network_output(model, x_one, recipe), atol=1e-6)


def test_three_class_and_tta_keep_the_whole_output():
    recipe = recipe_from_dict({**_recipe().model_dump(mode="json"), "train": {"instance_target": "three_class"}})
    model = _model(recipe)
    _, x, _ = prepare_image(model, _image(), recipe)
    assert isinstance(network_output(model, x, recipe, coarse=True), np.ndarray)  # not post-processed on the grid
    tta = _recipe()
    tta.evaluate.postprocess.tta = True
    assert isinstance(network_output(_model(tta), x, tta, coarse=True), np.ndarray)


def test_onnx_copy_leaves_the_repeat_out_and_predicts_the_same_labels(tmp_path: Path):
    pytest.importorskip("onnxruntime")
    from builder.workflow.model_source import open_model_source
    from builder.workflow.onnx_cache import FRESH, ensure_copy

    recipe = _recipe()
    model = _model(recipe)
    run = write_run(tmp_path / "run", model, recipe)
    assert ensure_copy(run, model, recipe=recipe).status == FRESH
    source = open_model_source(str(run), engine="onnx")
    network = source.model
    assert source.engine == "onnx" and network.record["output_grid"] == 2 and network.output_grid == 2
    x = np.random.default_rng(1).normal(size=(1, 32, 48, 1)).astype(np.float32)
    assert network.predict_coarse(x).shape == (1, 16, 24, 33)
    np.testing.assert_allclose(network.predict_on_batch(x), np.asarray(model(x)), atol=1e-4)  # whole output
    image = _image()
    params = {"threshold": _threshold(model, recipe, image), "nms_threshold": 0.4, "min_size": 3}
    from_onnx = predict_image(network, image, source.recipe, postprocess=params)
    assert from_onnx["output"].repeat == 2
    raw, x_image, used = prepare_image(network, image, source.recipe)
    repeated = network_output(network, x_image, source.recipe)  # the graph's output repeated, as Keras gives it
    whole = finish_prediction(CoarseOutput(repeated[::2, ::2], 2, x_image.shape[:2]), raw, x_image, used,
                              source.recipe, postprocess=params)
    assert from_onnx["labels"].max() >= 3
    np.testing.assert_array_equal(from_onnx["labels"], whole["labels"])
    from_keras = predict_image(model, image, recipe, postprocess=params)
    assert from_keras["labels"].max() == from_onnx["labels"].max()
    assert (from_keras["labels"] == from_onnx["labels"]).mean() > 0.99


def test_a_copy_whose_graph_keeps_the_repeat_it_claims_to_leave_out_is_refused_clearly(tmp_path: Path):
    pytest.importorskip("onnxruntime")
    import json

    from builder.errors import DataError
    from builder.export.onnx import write_onnx
    from builder.run_folder import RunFolder, files
    from builder.workflow.model_source import open_model_source
    from builder.workflow.onnx_cache import _test_input, prediction_record
    from builder.workflow.onnx_network import RECORD_KEY

    recipe = _recipe()
    model = _model(recipe)
    run = write_run(tmp_path / "run", model, recipe)
    folder = RunFolder(run)
    record = {**prediction_record(model, recipe, folder.model_checkpoint()), "output_grid": 2}
    copy = folder.file(files.ONNX_COPY)
    write_onnx(model, copy, test_input=_test_input(model, recipe), properties={RECORD_KEY: json.dumps(record)})
    source = open_model_source(str(run), engine="onnx")
    with pytest.raises(DataError) as raised:
        predict_image(source.model, _image(), source.recipe)
    text = str(raised.value)
    assert str(copy) in text and "2 times fewer rows and columns" in text and "Delete the run's model.onnx" in text

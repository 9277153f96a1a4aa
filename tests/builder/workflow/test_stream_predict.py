"""Large-image prediction with bounded memory: streamed results equal the whole-image path."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import tifffile

from builder.data.image_stats import image_stats
from builder.data.normalize import apply_stats, stats_from_config
from builder.recipe import recipe_from_dict
from builder.workflow.inference import predict_image
from builder.workflow.model_source import open_model_source
from builder.workflow.predict_job import predict_paths
from tests.builder.workflow.predict_helpers import conv_net, make_recipe, threshold_model, write_run, write_tiff


def _seg_recipe(**normalize):
    recipe = make_recipe("segmentation").model_dump()
    recipe["preprocess"]["normalize"] = {"method": "percentile", **normalize}
    recipe["preprocess"]["tile"] = {"size": 48, "overlap": 16}
    return recipe_from_dict(recipe)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
@pytest.mark.parametrize("method", ["percentile", "minmax", "zscore", "fixed"])
@pytest.mark.parametrize("per_channel", [True, False])
def test_image_stats_equal_the_float_copy_statistics(dtype, method, per_channel):
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    image = rng.integers(max(info.min, -3000), min(info.max, 3000), size=(37, 53, 2)).astype(dtype)
    cfg = _seg_recipe(method=method, per_channel=per_channel, low=2.5, high=99.3).preprocess.normalize
    expected = stats_from_config([image.astype(np.float32)], cfg)
    got = image_stats(image, cfg)
    np.testing.assert_allclose(got.offset, expected.offset, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(got.scale, expected.scale, rtol=1e-6, atol=1e-4)


def test_streamed_segmentation_equals_whole_image_prediction(tmp_path):
    recipe = _seg_recipe()
    model = conv_net(1, 2, seed=4)
    run = write_run(tmp_path / "run", model, recipe)
    image = np.random.default_rng(0).integers(100, 4000, size=(68, 100)).astype(np.uint16)  # 2 x 3 tiles
    write_tiff(tmp_path / "in" / "big.tif", image, pixel_size=0.3)
    predict_paths(run, [tmp_path / "in"], tmp_path / "out", probabilities=True)
    prob = tifffile.imread(tmp_path / "out" / "big_prob.tif")  # C, Y, X
    mask = tifffile.imread(tmp_path / "out" / "big_mask.tif")

    in_memory = predict_image(model, image, recipe)
    np.testing.assert_allclose(np.moveaxis(prob, 0, -1), in_memory["output"], atol=1e-4)
    assert np.array_equal(mask, in_memory["mask"]) and mask.dtype == np.uint8
    x = apply_stats(image[..., None].astype(np.float32), stats_from_config([image[..., None].astype(np.float32)],
                                                                            recipe.preprocess.normalize))
    untiled = model.predict(x[None], verbose=0)[0]
    np.testing.assert_allclose(np.moveaxis(prob, 0, -1), untiled, atol=1e-4)


def _traced_peak(source, folder, out) -> int:
    tracemalloc.start()
    try:
        predict_paths(source, [folder], out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_prediction_memory_grows_only_by_the_raw_image(tmp_path):
    """Extra image rows cost numpy memory for the raw pixels only (they cost ~48 bytes per pixel before), when
    images are tiled (images that fit in memory go through the network in one call by default)."""
    recipe = make_recipe("segmentation").model_dump()
    recipe["preprocess"]["tile"] = {"size": 128, "overlap": 16, "whole_image": False}
    run = write_run(tmp_path / "run", threshold_model(2), recipe_from_dict(recipe))
    rng = np.random.default_rng(1)
    small = rng.integers(100, 1100, size=(512, 768)).astype(np.uint16)
    tall = rng.integers(100, 1100, size=(2048, 768)).astype(np.uint16)
    write_tiff(tmp_path / "small" / "small.tif", small)
    write_tiff(tmp_path / "tall" / "tall.tif", tall)
    source = open_model_source(run)
    predict_paths(source, [tmp_path / "small"], tmp_path / "warm")  # first call builds the predict function
    growth = _traced_peak(source, tmp_path / "tall", tmp_path / "b") - _traced_peak(source, tmp_path / "small",
                                                                                    tmp_path / "a")
    extra_pixels = tall.size - small.size
    print(f"{growth / extra_pixels:.2f} bytes per extra pixel")
    assert growth < 4 * extra_pixels, f"{growth / extra_pixels:.1f} bytes per extra pixel"
    mask = tifffile.imread(tmp_path / "b" / "tall_mask.tif")
    lo, hi = float(tall.min()), float(tall.max())
    assert np.array_equal(mask, ((tall - lo) / (hi - lo) > 0.5).astype(np.uint8))  # minmax, brighter half

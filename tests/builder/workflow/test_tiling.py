"""Tiled prediction equals whole-image prediction for every template (real Keras models from the templates)."""

from __future__ import annotations

import numpy as np
import pytest

from builder.recipe import recipe_from_dict
from builder.tasks import get_task
from builder.templates import all_templates
from builder.workflow.inference import network_output, tiling
from builder.workflow.receptive_field import network_reach

keras = pytest.importorskip("keras")

NO_WEIGHTS = {"name": "mobilenet_v2", "weights": "none"}
#: One small network per template (its defaults, fewer filters); the classifier has no tiles (whole-image input).
CASES = {
    "unet": ("segmentation", {"depth": 3, "base_filters": 4}, 1, 96),
    "unet_residual_bilinear": ("instance_segmentation", {"depth": 2, "base_filters": 4, "block": "residual",
                                                         "attention": True, "upsampling": "bilinear"}, 1, 64),
    "unet_grid": ("instance_segmentation", {"depth": 2, "base_filters": 4, "grid": 2}, 1, 64),
    "restoration": ("image_to_image", {"depth": 2, "base_filters": 4}, 1, 64),
    "fpn": ("instance_segmentation", {"backbone": NO_WEIGHTS, "levels": [4, 8], "pyramid_filters": 8,
                                      "head_filters": 4}, 3, 64),
}


def _recipe(task: str, template: str, params: dict, tile: int, whole_image: bool):
    layout = {"image_to_image": {"targets": "targets"}}.get(task, {"masks": "masks"})
    return recipe_from_dict({
        "name": "tiling", "task": task, "data": {"root": ".", "split": {"mode": "folders"}, **layout},
        "preprocess": {"normalize": {"method": "none"}, "tile": {"size": tile, "overlap": 8,
                                                                  "whole_image": whole_image}},
        "model": {"template": template, "params": params},
    })


def test_every_pixel_template_is_covered():
    covered = {name.split("_")[0] for name in CASES}
    pixel = {n for n, t in all_templates().items() if any(get_task(k).pixel_output for k in t.tasks())}
    assert pixel <= covered, pixel - covered


@pytest.mark.parametrize("case", list(CASES))
def test_tiled_equals_whole_image_within_1e4(case):
    from builder.compile import compile_recipe_model

    task, params, channels, tile = CASES[case]
    template = case.split("_")[0]
    keras.utils.set_random_seed(3)
    tiled_recipe = _recipe(task, template, params, tile, whole_image=False)
    model = compile_recipe_model(tiled_recipe, (None, None, channels))
    reach = network_reach(model)
    assert reach.local
    side = tiling(model, (4096, 4096), tiled_recipe).tile[0]  # tiles widened to the receptive field
    x = np.random.default_rng(0).random((side + side // 2 + 5, 2 * side - 11, channels)).astype(np.float32)
    plan = tiling(model, x.shape[:2], tiled_recipe)
    assert not plan.whole and plan.exact and plan.overlap >= 2 * reach.radius
    assert x.shape[0] > plan.tile[0] and x.shape[1] > plan.tile[1]  # really several tiles in each direction
    tiled = network_output(model, x, tiled_recipe)
    whole_recipe = _recipe(task, template, params, tile, whole_image=True)
    assert tiling(model, x.shape[:2], whole_recipe).whole
    whole = network_output(model, x, whole_recipe)
    assert tiled.dtype == whole.dtype == np.float32 and tiled.shape == whole.shape
    error = np.abs(tiled - whole).max()
    assert error < 1e-4, error
    # the old rule (a quarter of a 16 px overlap ignored) leaves seams many times larger
    from builder.data.patches import predict_tiled

    naive = predict_tiled(lambda b: np.asarray(model.predict_on_batch(b)), x, tile=plan.tile, overlap=16,
                          align=plan.align)
    assert np.abs(naive - whole).max() > 20 * max(error, 1e-7)


def test_group_normalisation_is_not_local_and_warns_before_tiling():
    from builder.compile import compile_recipe_model
    from builder.workflow.inference import overlap_warning

    recipe = _recipe("segmentation", "unet", {"depth": 2, "base_filters": 4, "norm": "group", "groups": 2}, 32,
                     whole_image=True)
    model = compile_recipe_model(recipe, (None, None, 1))
    assert not network_reach(model).local
    assert tiling(model, (40, 40), recipe).whole  # small images still go in one piece
    warning = overlap_warning(model, recipe)
    assert warning is not None and warning["where"] == "model" and "group normalisation" in warning["what"]

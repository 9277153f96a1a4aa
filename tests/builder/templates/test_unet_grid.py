"""The U-Net's ``grid: 2``: one full-resolution block, the U-Net at half resolution, the output repeated to full
size. Real Keras models compiled from recipes."""

from __future__ import annotations

import numpy as np
import pytest

from builder.errors import RecipeError
from builder.recipe import recipe_from_dict

keras = pytest.importorskip("keras")


def _recipe(**params):
    return recipe_from_dict({
        "name": "grid", "task": "instance_segmentation",
        "data": {"root": ".", "masks": "masks", "split": {"mode": "folders"}},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 4, **params}},
        "train": {"instance_target": "star_convex"},
    })


def _model(recipe):
    from builder.compile import compile_recipe_model

    keras.utils.set_random_seed(0)
    return compile_recipe_model(recipe, (None, None, 1))


def _conv_sizes(model, x):
    """Spatial size of the input of every convolution and block of convolutions (graph nodes) for input ``x``
    (node id -> (Y, X))."""
    convs = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.Model))]
    # the tensor each node was called on in this model (a nested block's own ``input`` is its inner one)
    probe = keras.Model(model.inputs, [layer._inbound_nodes[0].input_tensors[0] for layer in convs])
    return {layer.name: tuple(np.asarray(out).shape[1:3]) for layer, out in zip(convs, probe(x), strict=True)}


def test_grid_two_runs_all_but_one_block_at_half_resolution_and_outputs_full_size():
    plain, grid = _recipe(), _recipe(grid=2)
    assert plain.model.downsampling_factor() == 4 and grid.model.downsampling_factor() == 8
    x = np.random.default_rng(0).normal(size=(1, 32, 48, 1)).astype(np.float32)
    model = _model(grid)
    out = np.asarray(model(x))
    assert out.shape == (1, 32, 48, 1 + 32)  # the image's size, as before
    # every output pixel is repeated over its 2x2 block: the network computed it once, on the half grid
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        np.testing.assert_array_equal(out[:, dy::2, dx::2], out[:, ::2, ::2])
    sizes = _conv_sizes(model, x)
    full = [name for name, size in sizes.items() if size == (32, 48)]
    assert full and full == ["stem"], full  # only the first block at full size
    assert max(sizes.values()) == (32, 48) and (16, 24) in sizes.values()
    # the plain U-Net runs its first encoder and last decoder block at full size
    plain_sizes = _conv_sizes(_model(plain), x)
    assert sum(size == (32, 48) for size in plain_sizes.values()) > len(full)


def test_grid_with_a_pretrained_backbone_is_refused_with_a_fix():
    with pytest.raises(RecipeError) as caught:
        _recipe(grid=2, backbone={"name": "mobilenet_v3_small"})
    text = str(caught.value).lower()
    assert "model.params" in text and "grid: 2" in text and "backbone" in text and "fix: remove" in text


def test_grid_accepts_only_one_or_two():
    with pytest.raises(RecipeError):
        _recipe(grid=3)

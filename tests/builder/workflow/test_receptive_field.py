"""Receptive field of real Keras models, checked against where a one-pixel change actually reaches."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from builder.workflow.predict_job import predict_paths
from builder.workflow.receptive_field import receptive_field
from tests.builder.workflow.predict_helpers import conv_net, make_recipe, write_run, write_tiff

keras = pytest.importorskip("keras")


class _Wrapped(keras.layers.Layer):
    """A composite layer hiding a 5x5 convolution (like Cellwright's composite blocks)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(2, 5, padding="same", activation="tanh")

    def call(self, x):
        return self.conv(x)


def _chain(*layers):
    keras.utils.set_random_seed(1)
    inp = keras.Input((None, None, 1))
    x = inp
    for layer in layers:
        x = layer(x)
    return keras.Model(inp, x)


def _reach(model, size: int = 64) -> int:
    """Width of the output region that changes when one input pixel in the middle changes."""
    base = np.random.default_rng(0).random((1, size, size, 1)).astype(np.float32)
    poked = base.copy()
    poked[0, size // 2, size // 2, 0] += 5.0
    diff = np.abs(model.predict(poked, verbose=0) - model.predict(base, verbose=0)).max(axis=(0, 2, 3))
    rows = np.nonzero(diff > 1e-6)[0]
    return int(rows.max() - rows.min() + 1)


def test_plain_and_dilated_convolutions_match_the_measured_reach():
    model = conv_net()
    assert receptive_field(model) == _reach(model) == 7
    dilated = _chain(keras.layers.Conv2D(2, 3, padding="same", dilation_rate=3, activation="tanh"),
                     _Wrapped(), keras.layers.Conv2D(1, 3, padding="same"))
    assert receptive_field(dilated) == _reach(dilated) == 1 + 6 + 4 + 2


def test_pooling_and_upsampling_bound_the_measured_reach():
    model = _chain(keras.layers.Conv2D(4, 3, padding="same", activation="tanh"), keras.layers.MaxPooling2D(2),
                   keras.layers.Conv2D(4, 3, padding="same", activation="tanh"), keras.layers.UpSampling2D(2),
                   keras.layers.Conv2D(1, 3, padding="same"))
    field = receptive_field(model)
    assert field == 10
    assert _reach(model) <= field + 1  # the pooling grid can shift the reach by one pixel


def test_predict_widens_a_too_small_overlap_so_tiles_equal_the_whole_image(tmp_path, capsys):
    from builder.cli.main import main
    from builder.recipe import recipe_from_dict

    wide = _chain(*[keras.layers.Conv2D(2, 5, padding="same",
                                        activation="tanh" if i < 3 else "softmax") for i in range(4)])
    assert receptive_field(wide) == 17
    image = np.random.default_rng(0).integers(0, 999, (92, 100)).astype(np.uint16)
    write_tiff(tmp_path / "a.tif", image)
    data = make_recipe("segmentation").model_dump()  # 32 px tiles, 12 px overlap: less than the field
    data["preprocess"]["tile"]["whole_image"] = False
    run = write_run(tmp_path / "wide", wide, recipe_from_dict(data))
    summary = predict_paths(run, [tmp_path / "a.tif"], tmp_path / "out", probabilities=True)
    assert summary["warnings"] == []
    tiled = tifffile.imread(tmp_path / "out" / "a_prob.tif")
    x = image[..., None].astype(np.float32)
    x = (x - x.min()) / (x.max() - x.min())  # the recipe's minmax normalisation
    whole = np.moveaxis(wide.predict(x[None], verbose=0)[0], -1, 0)
    assert np.abs(tiled - whole).max() < 1e-4
    assert main(["predict", str(run), str(tmp_path / "a.tif"), "--out", str(tmp_path / "cli"), "--force"]) == 0
    assert "warning" not in capsys.readouterr().out

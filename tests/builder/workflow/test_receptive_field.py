"""Receptive field of real Keras models, checked against where a one-pixel change actually reaches."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_predict_warns_when_tiles_overlap_less_than_the_receptive_field(tmp_path, capsys):
    from builder.cli.main import main

    wide = _chain(*[keras.layers.Conv2D(2, 5, padding="same",
                                        activation="tanh" if i < 3 else "softmax") for i in range(4)])
    assert receptive_field(wide) == 17
    write_tiff(tmp_path / "a.tif", np.random.default_rng(0).integers(0, 999, (40, 40)).astype(np.uint16))
    run = write_run(tmp_path / "wide", wide, make_recipe("segmentation"))  # overlap 12 px
    summary = predict_paths(run, [tmp_path / "a.tif"], tmp_path / "out")
    assert [w["where"] for w in summary["warnings"]] == ["preprocess.tile.overlap"]
    assert "17 px" in summary["warnings"][0]["what"] and "at least 17" in summary["warnings"][0]["fix"]
    assert main(["predict", str(run), str(tmp_path / "a.tif"), "--out", str(tmp_path / "cli"), "--force"]) == 0
    assert "warning: preprocess.tile.overlap" in capsys.readouterr().out

    narrow = write_run(tmp_path / "narrow", conv_net(), make_recipe("segmentation"))  # 7 px < 12 px
    assert predict_paths(narrow, [tmp_path / "a.tif"], tmp_path / "out2")["warnings"] == []

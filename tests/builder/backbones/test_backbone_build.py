"""build_encoder with weights from the Keras cache, from a path, missing offline; channel modes; save/load."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from builder.errors import WeightsError


def _encoder(name, channels=1, **kwargs):
    import keras

    from builder.backbones.build import build_encoder

    inputs = keras.Input((64, 64, channels))
    features = build_encoder(name, inputs, name_prefix="enc", **kwargs)
    return keras.Model(inputs, features)


def _assert_same_weights(loaded, reference):
    """Every weight of every layer of ``reference`` equals the one of the same layer in ``loaded``."""
    compared = 0
    for layer in (layer for layer in reference.layers if layer.weights):
        for ours, theirs in zip(loaded.get_layer(layer.name).weights, layer.weights, strict=True):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=f"{layer.name}/{theirs.name}")
            compared += 1
    assert compared == len(reference.weights) > 0


def test_imagenet_weights_come_from_the_keras_cache(keras_home, weights_files):
    """MobileNetV2's file has no hash in Keras: random weights under its exact cache name are loaded as-is."""
    from builder.backbones.catalog import BACKBONES
    from builder.backbones.weights import cache_dir

    info = BACKBONES["mobilenet_v2"]
    (keras_home / "models").mkdir()
    written = weights_files.random("MobileNetV2", cache_dir() / info.weights_file, seed=3)
    model = _encoder("mobilenet_v2", weights="imagenet")
    _assert_same_weights(model.get_layer("enc"), written)


def test_weights_from_a_local_path(tmp_path, keras_home, weights_files):
    """MobileNetV3Small's cache file is hash-checked, so random weights are given as an explicit path."""
    path = tmp_path / "my_weights.h5"
    written = weights_files.random("MobileNetV3Small", path, seed=4)
    model = _encoder("mobilenet_v3_small", channels=2, weights=str(path))
    _assert_same_weights(model.get_layer("enc"), written)
    relative = _encoder("mobilenet_v3_small", weights="my_weights.h5", base_dir=tmp_path)
    _assert_same_weights(relative.get_layer("enc"), written)


def test_efficientnet_normalization_is_corrected_like_keras_imagenet_graph(tmp_path, weights_files):
    from builder.backbones.layers import IMAGENET_STD_RGB

    path = tmp_path / "efficientnetb0_notop.h5"
    written = weights_files.random("EfficientNetB0", path, seed=5)
    model = _encoder("efficientnet_b0", weights=str(path)).get_layer("enc")
    norm = next(layer for layer in model.layers if type(layer).__name__ == "Normalization")
    ref = next(layer for layer in written.layers if type(layer).__name__ == "Normalization")
    np.testing.assert_allclose(norm.adapt_variance.numpy(), ref.adapt_variance.numpy() * np.array(IMAGENET_STD_RGB),
                               rtol=1e-6)
    np.testing.assert_array_equal(norm.adapt_mean.numpy(), ref.adapt_mean.numpy())


def test_missing_weights_offline_name_the_file_and_the_import_command(keras_home, monkeypatch):
    """Download through Keras's get_file from a file:// URL that does not exist (no network involved)."""
    from builder.backbones import catalog

    info = dataclasses.replace(catalog.BACKBONES["mobilenet_v2"],
                               weights_url=(keras_home / "nowhere" / "mobilenet.h5").as_uri())
    monkeypatch.setitem(catalog._BY_KEY, "mobilenetv2", info)
    with pytest.raises(WeightsError) as caught:
        _encoder("mobilenet_v2", weights="imagenet")
    text = caught.value.format()
    assert info.weights_file in text
    assert f"cellwright weights import {info.weights_file}" in text
    assert "cellwright weights fetch mobilenet_v2" in text
    assert not (keras_home / "models" / info.weights_file).exists()


def test_wrong_file_and_missing_path_are_weights_errors(tmp_path, weights_files):
    path = tmp_path / "vgg.h5"
    weights_files.random("VGG16", path)
    with pytest.raises(WeightsError, match="does not hold the weights of backbone 'mobilenet_v2'"):
        _encoder("mobilenet_v2", weights=str(path))
    with pytest.raises(WeightsError, match="does not exist"):
        _encoder("mobilenet_v2", weights=str(tmp_path / "absent.h5"))


def test_project_mode_starts_as_repeat_and_model_round_trips(tmp_path):
    from builder.model_files.safe_import import load_keras_safely

    model = _encoder("mobilenet_v3_small", channels=2, weights="none", channel_mode="project")
    project = model.get_layer("enc_project")
    np.testing.assert_allclose(project.get_weights()[0].ravel(), 0.5)
    assert project.trainable and project.count_params() == 2 * 3 + 3
    x = np.random.default_rng(0).random((1, 64, 64, 2)).astype("float32")
    before = model(x)
    model.save(tmp_path / "m.keras")
    loaded = load_keras_safely(tmp_path / "m.keras")
    after = {int(k): v for k, v in loaded(x).items()}
    for stride, value in before.items():
        np.testing.assert_allclose(np.asarray(after[stride]), np.asarray(value), atol=1e-5)
    three = _encoder("mobilenet_v2", channels=3, weights="none", channel_mode="project")
    np.testing.assert_array_equal(three.get_layer("enc_project").get_weights()[0].reshape(3, 3), np.eye(3))

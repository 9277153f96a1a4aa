"""Every catalogued backbone builds, and each skip tap exists with the stride it is filed under."""

from __future__ import annotations

import numpy as np
import pytest

from builder.backbones.catalog import BACKBONES, backbone_for_file, get_backbone
from builder.errors import GraphError

REQUIRED = {
    "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large", "ResNet50", "ResNet50V2", "EfficientNetB0",
    "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
    "DenseNet121", "ConvNeXtTiny", "VGG16",
}


def test_catalogue_covers_the_required_families():
    assert {info.constructor for info in BACKBONES.values()} >= REQUIRED
    files = [info.weights_file for info in BACKBONES.values()]
    assert len(set(files)) == len(files)
    assert all(f.endswith(".h5") and ("notop" in f or "no_top" in f) for f in files)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_builds_with_taps_at_their_strides(name):
    """Build once (weights none, 64x64, 1 channel); each tap exists and has size 64 / stride."""
    import keras

    from builder.backbones.build import build_encoder, tap_layer_names

    info = BACKBONES[name]
    inputs = keras.Input((64, 64, 1))
    features = build_encoder(name, inputs, weights="none", name_prefix="enc")
    assert sorted(features) == sorted(info.taps)
    assert set(features) <= {2, 4, 8, 16, 32} and {8, 16, 32} <= set(features)
    for stride, tensor in features.items():
        assert tuple(tensor.shape[1:3]) == (64 // stride, 64 // stride), (name, stride, tensor.shape)
    encoder = keras.Model(inputs, features).get_layer("enc")
    names = tap_layer_names(encoder, info)
    for stride, spec in info.taps.items():
        layer = encoder.get_layer(names[stride])
        assert layer.output.shape[1] == 64 // stride
        if spec.endswith("+"):  # the layer right after a BN is its activation
            assert type(layer).__name__ in ("Activation", "ReLU"), (spec, layer.name)
    counted = encoder.count_params() / 1e6
    assert counted == pytest.approx(info.params_millions, rel=0.06), (name, counted)


def test_get_backbone_accepts_keras_spelling_and_suggests_names():
    assert get_backbone("MobileNetV2").name == "mobilenet_v2"
    assert get_backbone("EfficientNetV2B1").name == "efficientnet_v2_b1"
    with pytest.raises(GraphError, match="Did you mean 'resnet50'"):
        get_backbone("resnet5")
    assert backbone_for_file("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5").name == "vgg16"
    assert backbone_for_file("other.h5") is None


def test_catalogue_matches_keras_urls_and_hashes():
    """File names, URLs and hashes are those keras.applications itself uses."""
    from keras.src.applications import convnext, densenet, efficientnet, efficientnet_v2, mobilenet_v3, resnet

    assert BACKBONES["resnet50"].weights_hash == resnet.WEIGHTS_HASHES["resnet50"][1]
    assert BACKBONES["resnet50_v2"].weights_hash == resnet.WEIGHTS_HASHES["resnet50v2"][1]
    assert BACKBONES["mobilenet_v3_small"].weights_hash == mobilenet_v3.WEIGHTS_HASHES["small_224_1.0_float"][1]
    assert BACKBONES["mobilenet_v3_large"].weights_hash == mobilenet_v3.WEIGHTS_HASHES["large_224_1.0_float"][1]
    for variant in ("b0", "b1", "b2", "b3"):
        info = BACKBONES[f"efficientnet_{variant}"]
        assert info.weights_hash == efficientnet.WEIGHTS_HASHES[variant][1]
        assert info.weights_url == efficientnet.BASE_WEIGHTS_PATH + info.weights_file
    for variant in ("b0", "b1", "b2"):
        info = BACKBONES[f"efficientnet_v2_{variant}"]
        assert info.weights_hash == efficientnet_v2.WEIGHTS_HASHES[variant][1]
        assert info.weights_url == efficientnet_v2.BASE_WEIGHTS_PATH + info.weights_file
    assert BACKBONES["densenet121"].weights_url == densenet.DENSENET121_WEIGHT_PATH_NO_TOP
    assert BACKBONES["convnext_tiny"].weights_hash == convnext.WEIGHTS_HASHES["convnext_tiny"][1]


@pytest.mark.parametrize(("preprocessing", "module"), [("tf", "mobilenet_v2"), ("caffe", "resnet50"),
                                                       ("torch", "densenet"), ("builtin", None)])
def test_input_scaling_matches_keras_preprocess_input(preprocessing, module):
    """0..1 images through BackboneInput equal Keras's preprocess_input on the same images in 0..255."""
    import keras

    from builder.backbones.layers import BackboneInput

    rng = np.random.default_rng(1)
    rgb = rng.random((2, 8, 8, 3)).astype("float32")
    ours = np.asarray(BackboneInput(3, preprocessing=preprocessing)(rgb))
    reference = rgb * 255 if module is None else \
        getattr(keras.applications, module).preprocess_input(rgb.copy() * 255)
    np.testing.assert_allclose(ours, np.asarray(reference), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_repeat_channels(channels):
    from builder.backbones.layers import BackboneInput

    image = np.random.default_rng(channels).random((1, 4, 4, channels)).astype("float32")
    out = np.asarray(BackboneInput(channels, preprocessing="builtin")(image)) / 255
    expected = image if channels == 3 else np.repeat(image.mean(-1, keepdims=True), 3, axis=-1)
    np.testing.assert_allclose(out, expected, rtol=1e-5)

"""Freeze policies: frozen weights stay put during fit, unfreezing at an epoch works, BN inference while frozen."""

from __future__ import annotations

import numpy as np
import pytest

from builder.errors import GraphError


def _classifier(name, size=32):
    import keras

    from builder.backbones.build import build_encoder

    inputs = keras.Input((size, size, 1))
    features = build_encoder(name, inputs, weights="none", name_prefix="enc")
    pooled = keras.layers.GlobalAveragePooling2D()(features[max(features)])
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="head")(pooled))


def test_until_epoch_keeps_weights_then_trains_them():
    """Frozen during epoch 0 (backbone unchanged, head learns), unfrozen from epoch 1 (backbone learns)."""
    import keras

    from builder.backbones.freeze import make_freeze_callback

    model = _classifier("vgg16")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", jit_compile=False)
    conv = model.get_layer("enc").get_layer("block1_conv1")
    head = model.get_layer("head")
    snapshots = [(conv.kernel.numpy().copy(), head.kernel.numpy().copy())]

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((conv.kernel.numpy().copy(), head.kernel.numpy().copy()))

    rng = np.random.default_rng(0)
    x, y = rng.random((4, 32, 32, 1)).astype("float32"), np.array([0, 1, 0, 1])
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[make_freeze_callback({"until_epoch": 1}),
                                                                   Snapshot()])
    (c0, h0), (c1, h1), (c2, _) = snapshots
    np.testing.assert_array_equal(c0, c1)  # frozen in epoch 0
    assert not np.allclose(h0, h1)  # while the head learned
    assert not np.allclose(c1, c2)  # unfrozen at epoch 1: the backbone learns


def test_frozen_batch_norm_runs_in_inference_mode():
    from builder.backbones.freeze import apply_freeze

    model = _classifier("mobilenet_v2")
    bn = model.get_layer("enc").get_layer("bn_Conv1")
    x = np.random.default_rng(1).random((2, 32, 32, 1)).astype("float32")
    frozen = apply_freeze(model, "all")
    assert "enc/bn_Conv1" in frozen and "enc/Conv1" in frozen
    mean = bn.moving_mean.numpy().copy()
    np.testing.assert_allclose(np.asarray(model(x, training=True)), np.asarray(model(x, training=False)), atol=1e-6)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mean)
    assert apply_freeze(model, "none") == []
    model(x, training=True)  # trainable BN updates its statistics
    assert not np.allclose(bn.moving_mean.numpy(), mean)


def test_up_to_freezes_the_first_layers_only():
    from builder.backbones.freeze import apply_freeze

    model = _classifier("mobilenet_v2")
    backbone = model.get_layer("enc")
    frozen = apply_freeze(model, {"up_to": "block_3_expand_relu"})
    assert "enc/block_3_expand_BN" in frozen and "enc/block_3_depthwise" not in frozen
    assert not backbone.get_layer("block_2_project").trainable
    assert backbone.get_layer("block_4_project").trainable and model.get_layer("head").trainable
    with pytest.raises(GraphError, match="Did you mean 'block_3_expand_relu'"):
        apply_freeze(model, {"up_to": "block_3_expand_rel"})
    with pytest.raises(GraphError, match="until_epoch"):
        apply_freeze(model, {"until": 3})

"""The masked autoencoder: a small CNN encoder (the part that is kept) and a decoder without skip connections.

The encoder has the layout of the ``classifier`` template's small CNN (per level: two 3x3 conv + batch norm +
ReLU, then 2x2 max pooling), so a classifier that starts from it has the same size as one trained from
scratch. The decoder has no skip connections: to fill in hidden squares, the encoder must describe the image.
Keras is imported inside the functions.
"""

from __future__ import annotations

from typing import Any

#: Name of the saved encoder model (the ``backbone: {from: ...}`` reader cuts its taps from this model).
ENCODER_NAME = "pretrained_encoder"


def _conv(x: Any, filters: int, name: str) -> Any:
    import keras

    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def build_encoder(channels: int, *, depth: int = 3, base_filters: int = 16) -> Any:
    """Encoder for ``(None, None, channels)`` images; output at stride ``2**depth``."""
    import keras

    inputs = keras.Input((None, None, channels), name="image")
    x = inputs
    for level in range(depth):
        x = _conv(x, base_filters * 2**level, f"enc{level}")
        x = keras.layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    return keras.Model(inputs, x, name=ENCODER_NAME)


def build_autoencoder(encoder: Any, channels: int, *, depth: int = 3, base_filters: int = 16) -> Any:
    """``encoder`` followed by a decoder back to ``channels`` channels at the input size."""
    import keras

    inputs = keras.Input((None, None, channels), name="masked_image")
    x = encoder(inputs)
    for level in reversed(range(depth)):
        x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{level}_up")(x)
        x = _conv(x, base_filters * 2**level, f"dec{level}")
    outputs = keras.layers.Conv2D(channels, 1, name="reconstruction")(x)
    return keras.Model(inputs, outputs, name="masked_autoencoder")


def masked_mse(visible_weight: float = 0.1) -> Any:
    """Loss on ``y_true`` = concat(image, mask): squared error; hidden pixels weigh 1, shown ones ``visible_weight``."""
    from keras import ops

    def loss(y_true: Any, y_pred: Any) -> Any:
        image, mask = y_true[..., :-1], y_true[..., -1:]
        weight = mask + visible_weight * (1.0 - mask)
        return ops.sum(weight * ops.square(image - y_pred)) / (ops.sum(weight) * ops.cast(ops.shape(image)[-1],
                                                                                           "float32"))

    return loss

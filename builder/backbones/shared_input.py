"""``SharedBackboneInput``: the entry of an encoder cut from a shared model (``backbone: {from: ...}``).

It brings the image to the shared model's channel count (or passes it through when the counts agree) and,
being a :class:`~builder.backbones.layers.BackboneInput`, names the nested encoder model so the freeze
policies of :mod:`builder.backbones.freeze` find it. Unlike a catalogue backbone, no ImageNet scaling is
applied: the shared model was trained on Cellwright-normalised images, as the new recipe's are.

Imports Keras at module level: import it only where Keras is needed.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from builder.backbones.layers import BackboneInput


@keras.saving.register_keras_serializable(package="cellwright")
class SharedBackboneInput(BackboneInput):
    """Maps a (B, H, W, C) image to the (B, H, W, K) input of a shared encoder; no weights.

    Args:
        in_channels: Channels of the incoming image (C).
        out_channels: Channels the shared model takes (K). C == K passes through; C == 1 is tiled K times;
            other counts are averaged and the mean is repeated K times.
        backbone: Name of the nested encoder model this layer feeds (found by the freeze policies).
    """

    def __init__(self, in_channels: int, out_channels: int, backbone: str = "", **kwargs: Any) -> None:
        kwargs.pop("channel_mode", None)
        kwargs.pop("preprocessing", None)
        kwargs.pop("backbone_name", None)
        keras.layers.Layer.__init__(self, **kwargs)  # the parent's ImageNet scaling is not wanted here
        if int(in_channels) < 1 or int(out_channels) < 1:
            raise ValueError(
                "Invalid value received for arguments `in_channels`/`out_channels`. Expected >= 1. "
                f"Received: in_channels={in_channels!r}, out_channels={out_channels!r}"
            )
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.channel_mode = "identity" if self.in_channels == self.out_channels else "repeat"
        self.preprocessing = "none"
        self.backbone = backbone
        self.backbone_name = "shared"

    def call(self, inputs: Any) -> Any:
        x = ops.cast(inputs, self.compute_dtype)
        if self.in_channels == self.out_channels:
            return x
        if self.in_channels != 1:
            x = ops.mean(x, axis=-1, keepdims=True)
        return ops.concatenate([x] * self.out_channels, axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if input_shape[-1] is not None and int(input_shape[-1]) != self.in_channels:
            raise ValueError(
                f"SharedBackboneInput expected {self.in_channels} input channels. Received: input_shape={input_shape}"
            )
        return (*input_shape[:-1], self.out_channels)

    def get_config(self) -> dict[str, Any]:
        config = keras.layers.Layer.get_config(self)
        config.update({"in_channels": self.in_channels, "out_channels": self.out_channels,
                       "backbone": self.backbone})
        return config

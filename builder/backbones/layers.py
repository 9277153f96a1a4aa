"""``BackboneInput``: brings a 1..N channel microscopy image in 0..1 to what a pretrained backbone expects.

Imports Keras at module level: import this module only where Keras is needed (``build.py`` does it lazily;
``builder.model_files.safe_import`` imports it so saved models load without ``custom_objects``).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

#: ImageNet statistics used by ``keras.applications.imagenet_utils.preprocess_input``.
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

_MODES = ("repeat", "identity")


def preprocessing_affine(preprocessing: str) -> tuple[list[float], list[float], bool]:
    """Per-channel ``scale``, ``offset`` and BGR flag turning 0..1 RGB into the family's expected input.

    ``y[c] = x[order[c]] * scale[c] + offset[c]`` with ``order`` = (2, 1, 0) when the flag is set.
    """
    if preprocessing == "tf":  # -1..1
        return [2.0] * 3, [-1.0] * 3, False
    if preprocessing == "caffe":  # BGR, 0..255 minus mean
        return [255.0] * 3, [-m for m in CAFFE_MEAN_BGR], True
    if preprocessing == "torch":  # (x - mean) / std
        pairs = zip(IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, strict=True)
        return [1.0 / s for s in IMAGENET_STD_RGB], [-m / s for m, s in pairs], False
    if preprocessing == "builtin":  # 0..255; the model rescales itself
        return [255.0] * 3, [0.0] * 3, False
    raise ValueError(
        "Invalid value received for argument `preprocessing`. Expected one of 'tf', 'caffe', 'torch', 'builtin'. "
        f"Received: preprocessing={preprocessing!r}"
    )


@keras.saving.register_keras_serializable(package="cellwright")
class BackboneInput(keras.layers.Layer):
    """Maps a (B, H, W, C) image scaled ~0..1 to the 3-channel input a pretrained backbone expects.

    Args:
        in_channels: Channels of the incoming image.
        channel_mode: ``"repeat"``: 1 channel is tiled to 3, 3 channels pass through, any other number is
            averaged and the mean repeated 3 times. ``"identity"``: the input already has 3 channels (e.g. after a
            learned 1x1 projection).
        preprocessing: ``"tf"``, ``"caffe"``, ``"torch"`` or ``"builtin"`` (see ``preprocessing_affine``).
        backbone: Name of the nested backbone model this layer feeds (found by the freeze policies).
        backbone_name: Catalogue name of the backbone (e.g. ``mobilenet_v2``).

    The layer has no weights, so no training or freeze policy can change it.
    """

    def __init__(
        self,
        in_channels: int,
        channel_mode: str = "repeat",
        preprocessing: str = "builtin",
        backbone: str = "",
        backbone_name: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if channel_mode not in _MODES:
            raise ValueError(
                "Invalid value received for argument `channel_mode`. Expected 'repeat' or 'identity'. "
                f"Received: channel_mode={channel_mode!r}"
            )
        if int(in_channels) < 1 or (channel_mode == "identity" and int(in_channels) != 3):
            raise ValueError(
                "Invalid value received for argument `in_channels`. Expected >= 1 (exactly 3 with "
                f"channel_mode='identity'). Received: in_channels={in_channels!r}"
            )
        self.in_channels = int(in_channels)
        self.channel_mode = channel_mode
        self.preprocessing = preprocessing
        self.backbone = backbone
        self.backbone_name = backbone_name
        self._scale, self._offset, self._bgr = preprocessing_affine(preprocessing)

    def call(self, inputs: Any) -> Any:
        x = ops.cast(inputs, self.compute_dtype)
        if self.in_channels == 1:
            x = ops.concatenate([x, x, x], axis=-1)
        elif self.in_channels != 3:
            mean = ops.mean(x, axis=-1, keepdims=True)
            x = ops.concatenate([mean, mean, mean], axis=-1)
        if self._bgr:
            x = ops.flip(x, axis=-1)
        scale = ops.convert_to_tensor(self._scale, dtype=self.compute_dtype)
        offset = ops.convert_to_tensor(self._offset, dtype=self.compute_dtype)
        return x * scale + offset

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if input_shape[-1] is not None and int(input_shape[-1]) != self.in_channels:
            raise ValueError(
                f"BackboneInput expected {self.in_channels} input channels. Received: input_shape={input_shape}"
            )
        return (*input_shape[:-1], 3)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "in_channels": self.in_channels,
                "channel_mode": self.channel_mode,
                "preprocessing": self.preprocessing,
                "backbone": self.backbone,
                "backbone_name": self.backbone_name,
            }
        )
        return config

"""Normalisation, regularisation and activation blocks (shape-preserving)."""

from __future__ import annotations

from typing import Any, Literal

from builder.blocks.convolution import Activation
from builder.blocks.registry import Block, Port, Shape, register_block, shape_text
from builder.fields import Section, field


class BatchNormParams(Section):
    momentum: float = field(
        0.9, help="Momentum of the moving mean and variance (0.9 settles within the few hundred steps of a small "
        "data set; Keras's 0.99 needs thousands).", ge=0.0, lt=1.0,
    )
    epsilon: float = field(1e-3, help="Small number added to the variance to avoid dividing by zero.", gt=0.0, le=1.0)


@register_block("batch_normalization")
class BatchNormalization(Block[BatchNormParams]):
    """Normalises each channel over the batch; speeds up and stabilises training."""

    category = "Normalization"
    Params = BatchNormParams
    inputs = (Port("input", "any"),)
    outputs = (Port("output", "any"),)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.BatchNormalization(momentum=self.p.momentum, epsilon=self.p.epsilon, name=self.id)(
            tensors[0]
        )


class GroupNormParams(Section):
    groups: int = field(8, help="Number of channel groups normalised together; must divide the channels.",
                         ge=1, le=4096)
    epsilon: float = field(1e-3, help="Small number added to the variance to avoid dividing by zero.", gt=0.0, le=1.0)


@register_block("group_normalization")
class GroupNormalization(Block[GroupNormParams]):
    """Normalises groups of channels within each image; works well with small batches."""

    category = "Normalization"
    Params = GroupNormParams

    def infer(self, shapes: list[Shape]) -> Shape:
        c = shapes[0][-1]
        if c is not None and c % self.p.groups:
            raise self.fail(
                f"groups={self.p.groups} does not divide the {c} channels of input '{self.input_ids[0]}' "
                f"{shape_text(shapes[0])}.",
                f"set groups to a divisor of {c} (e.g. {_divisor(c, self.p.groups)})",
            )
        return shapes[0]

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.GroupNormalization(groups=self.p.groups, epsilon=self.p.epsilon, name=self.id)(tensors[0])


def _divisor(channels: int, wanted: int) -> int:
    return max(d for d in range(1, min(channels, wanted) + 1) if channels % d == 0)


class LayerNormParams(Section):
    epsilon: float = field(1e-3, help="Small number added to the variance to avoid dividing by zero.", gt=0.0, le=1.0)


@register_block("layer_normalization")
class LayerNormalization(Block[LayerNormParams]):
    """Normalises the channels of each pixel (or the features of each vector)."""

    category = "Normalization"
    Params = LayerNormParams
    inputs = (Port("input", "any"),)
    outputs = (Port("output", "any"),)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.LayerNormalization(epsilon=self.p.epsilon, name=self.id)(tensors[0])


class DropoutParams(Section):
    rate: float = field(0.2, help="Fraction of values set to zero during training.", ge=0.0, lt=1.0, common=True)


@register_block("dropout")
class Dropout(Block[DropoutParams]):
    """Randomly zeroes values during training to reduce over-fitting."""

    category = "Regularization"
    Params = DropoutParams
    inputs = (Port("input", "any"),)
    outputs = (Port("output", "any"),)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.Dropout(self.p.rate, name=self.id)(tensors[0])


@register_block("spatial_dropout2d")
class SpatialDropout2D(Block[DropoutParams]):
    """Randomly zeroes whole feature maps during training."""

    category = "Regularization"
    Params = DropoutParams

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.SpatialDropout2D(self.p.rate, name=self.id)(tensors[0])


class ActivationParams(Section):
    activation: Activation = field("relu", help="Function applied to every value.", common=True)


@register_block("activation")
class ActivationBlock(Block[ActivationParams]):
    """Applies a non-linear function (relu, gelu, sigmoid, ...) to every value."""

    category = "Activation"
    Params = ActivationParams
    inputs = (Port("input", "any"),)
    outputs = (Port("output", "any"),)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.Activation(self.p.activation, name=self.id)(tensors[0])


NormKind = Literal["batch", "group", "layer", "none"]

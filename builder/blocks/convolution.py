"""Convolution and resampling blocks (one Keras layer each, named after the node)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from builder.blocks._shapes import conv_size, mul
from builder.blocks.registry import Block, Shape, register_block, shape_text
from builder.fields import Section, field

Activation = Literal["linear", "relu", "leaky_relu", "elu", "gelu", "swish", "sigmoid", "tanh", "softmax"]
Padding = Literal["same", "valid"]


class ConvParams(Section):
    filters: int = field(32, help="Number of output channels (feature maps).", ge=1, le=4096, common=True)
    kernel_size: int = field(3, help="Side of the square convolution window.", ge=1, le=15, unit="px", common=True)
    strides: int = field(1, help="Step of the window; 2 halves the image size.", ge=1, le=8)
    padding: Padding = field("same", help="'same' keeps the size (with stride 1); 'valid' shrinks it.")
    dilation_rate: int = field(1, help="Spacing between kernel taps (atrous convolution).", ge=1, le=16)
    activation: Activation = field("linear", help="Activation applied after the convolution.", common=True)
    use_bias: bool = field(True, help="Learn an additive bias per channel (not needed before normalisation).")


class _ConvBase(Block[ConvParams]):
    category = "Convolution"
    Params = ConvParams
    _layer = "Conv2D"

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, _ = shapes[0]
        p = self.p
        out = tuple(conv_size(n, p.kernel_size, p.strides, p.padding, p.dilation_rate) for n in (h, w))
        if any(n is not None and n < 1 for n in out):
            raise self.fail(
                f"a {p.kernel_size}x{p.kernel_size} '{p.padding}' window does not fit the input "
                f"{shape_text(shapes[0])}.",
                "use padding: same, a smaller kernel_size, or a larger input size",
            )
        return (*out, p.filters)

    def scale(self) -> Fraction:
        return Fraction(self.p.strides)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        p = self.p
        layer = getattr(keras.layers, self._layer)(
            p.filters, p.kernel_size, strides=p.strides, padding=p.padding, dilation_rate=p.dilation_rate,
            activation=p.activation, use_bias=p.use_bias, name=self.id,
        )
        return layer(tensors[0])


@register_block("conv2d")
class Conv2D(_ConvBase):
    """2D convolution: learns filters that turn the image into feature maps."""


@register_block("separable_conv2d")
class SeparableConv2D(_ConvBase):
    """Depthwise-separable 2D convolution: like conv2d with far fewer weights."""

    _layer = "SeparableConv2D"


class TransposeParams(Section):
    filters: int = field(32, help="Number of output channels.", ge=1, le=4096, common=True)
    kernel_size: int = field(2, help="Side of the square window.", ge=1, le=15, unit="px")
    strides: int = field(2, help="Up-sampling factor; 2 doubles the image size.", ge=1, le=8, common=True)
    activation: Activation = field("linear", help="Activation applied after the layer.")


@register_block("conv2d_transpose")
class Conv2DTranspose(Block[TransposeParams]):
    """Transposed convolution: learned up-sampling (doubles the size with strides 2)."""

    category = "Resampling"
    Params = TransposeParams

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, _ = shapes[0]
        return (mul(h, self.p.strides), mul(w, self.p.strides), self.p.filters)

    def scale(self) -> Fraction:
        return Fraction(1, self.p.strides)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        p = self.p
        return keras.layers.Conv2DTranspose(
            p.filters, p.kernel_size, strides=p.strides, padding="same", activation=p.activation, name=self.id
        )(tensors[0])


class UpSamplingParams(Section):
    size: int = field(2, help="Up-sampling factor along height and width.", ge=1, le=16, common=True)
    interpolation: Literal["nearest", "bilinear"] = field("nearest", help="How new pixels are filled in.")


@register_block("upsampling2d")
class UpSampling2D(Block[UpSamplingParams]):
    """Repeats (or interpolates) pixels to enlarge the image by an integer factor."""

    category = "Resampling"
    Params = UpSamplingParams

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = shapes[0]
        return (mul(h, self.p.size), mul(w, self.p.size), c)

    def scale(self) -> Fraction:
        return Fraction(1, self.p.size)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.UpSampling2D(self.p.size, interpolation=self.p.interpolation, name=self.id)(tensors[0])


class ResizingParams(Section):
    height: int = field(..., help="Output height in pixels.", ge=1, le=8192, unit="px", common=True)
    width: int = field(..., help="Output width in pixels.", ge=1, le=8192, unit="px", common=True)
    interpolation: Literal["bilinear", "nearest", "bicubic", "area"] = field("bilinear", help="Resampling method.")


@register_block("resizing")
class Resizing(Block[ResizingParams]):
    """Resizes the image to a fixed height and width."""

    category = "Resampling"
    Params = ResizingParams

    def infer(self, shapes: list[Shape]) -> Shape:
        return (self.p.height, self.p.width, shapes[0][2])

    def build(self, tensors: list[Any]) -> Any:
        import keras

        p = self.p
        return keras.layers.Resizing(p.height, p.width, interpolation=p.interpolation, name=self.id)(tensors[0])

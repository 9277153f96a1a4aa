"""Composite blocks: several layers as one node (built as a nested Keras model named after the node)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal, TypeVar

from builder.blocks._shapes import conv_size, mul, same_spatial
from builder.blocks.convolution import Activation
from builder.blocks.registry import Block, Port, Shape, register_block, shape_text
from builder.fields import Section, field

NormKind = Literal["batch", "group", "layer", "none"]


class ConvBlockParams(Section):
    filters: int = field(32, help="Output channels of every convolution in the block.", ge=1, le=4096, common=True)
    kernel_size: int = field(3, help="Side of the square convolution window.", ge=1, le=15, unit="px")
    n_convs: int = field(2, help="Number of conv-norm-activation steps.", ge=1, le=8, common=True)
    norm: NormKind = field("batch", help="Normalisation after each convolution: batch, group, layer or none.",
                           common=True)
    groups: int = field(8, help="Channel groups for group normalisation; must divide filters.", ge=1, le=4096)
    activation: Activation = field("relu", help="Activation after each normalisation.")
    dropout: float = field(0.0, help="Spatial dropout rate at the end of the block (0 = off).", ge=0.0, lt=1.0)
    separable: bool = field(False, help="Use depthwise-separable convolutions (fewer weights).")


#: The parameters of a convolution block (plain, down or up).
CP = TypeVar("CP", bound=ConvBlockParams)


class _ConvBlockBase(Block[CP]):
    category = "Composite"
    Params = ConvBlockParams
    residual = False

    def _check_groups(self) -> None:
        p = self.p
        if p.norm == "group" and p.filters % p.groups:
            raise self.fail(
                f"groups={p.groups} does not divide filters={p.filters}.",
                "choose groups that divide filters (e.g. 4 or 8 with filters 32), or norm: batch",
            )

    def infer(self, shapes: list[Shape]) -> Shape:
        self._check_groups()
        return (*shapes[0][:2], self.p.filters)

    def build(self, tensors: list[Any]) -> Any:
        from builder.blocks._keras_parts import conv_stack, nested

        return nested(self.id, tensors, lambda x: conv_stack(x, self.p, self.residual))


@register_block("conv_block")
class ConvBlock(_ConvBlockBase[ConvBlockParams]):
    """Conv -> norm -> activation, repeated n_convs times (the basic U-Net block)."""


@register_block("residual_block")
class ResidualBlock(_ConvBlockBase[ConvBlockParams]):
    """Conv block with a shortcut that adds the input to the output (ResNet style)."""

    residual = True


class SEParams(Section):
    ratio: float = field(0.25, help="Bottleneck width as a fraction of the channels.", gt=0.0, le=1.0)


@register_block("squeeze_excite")
class SqueezeExcite(Block[SEParams]):
    """Re-weights channels by a gate computed from their global average (squeeze-and-excitation)."""

    category = "Composite"
    Params = SEParams

    def build(self, tensors: list[Any]) -> Any:
        from builder.blocks._keras_parts import nested, squeeze_excite

        return nested(self.id, tensors, lambda x: squeeze_excite(x, self.p.ratio))


class AttentionParams(Section):
    inter_filters: int | None = field(
        None, help="Channels of the attention computation; half the skip channels when left out.", ge=1, le=4096
    )


@register_block("attention_gate")
class AttentionGate(Block[AttentionParams]):
    """Attention gate: keeps the parts of a skip connection that the coarser (gating) features point to."""

    category = "Composite"
    Params = AttentionParams
    inputs = (Port("skip", "image"), Port("gating", "image"))

    def infer(self, shapes: list[Shape]) -> Shape:
        skip, gating = shapes
        if not same_spatial(skip, gating):
            raise self.fail(
                f"skip input '{self.input_ids[0]}' gives {shape_text(skip)} but gating input "
                f"'{self.input_ids[1]}' gives {shape_text(gating)}; both need the same height and width.",
                "up-sample the gating features to the skip's size first (upsampling2d / conv2d_transpose), or use "
                "an input size divisible by the network's down-sampling factor",
            )
        return skip

    def build(self, tensors: list[Any]) -> Any:
        from builder.blocks._keras_parts import attention_gate, nested

        inter = self.p.inter_filters or max(1, tensors[0].shape[-1] // 2)
        return nested(self.id, tensors, lambda s, g: attention_gate(s, g, inter))


class DownParams(ConvBlockParams):
    pooling: Literal["max", "average"] = field("max", help="How the image is halved before the convolutions.")
    residual: bool = field(False, help="Add a shortcut around the convolutions.")


@register_block("down_block")
class DownBlock(_ConvBlockBase[DownParams]):
    """Encoder step: halves the image (2x2 pooling), then a conv block."""

    Params = DownParams

    def infer(self, shapes: list[Shape]) -> Shape:
        self._check_groups()
        h, w, _ = shapes[0]
        out = tuple(conv_size(n, 2, 2, "valid") for n in (h, w))
        if any(n is not None and n < 1 for n in out):
            raise self.fail(f"the input {shape_text(shapes[0])} is too small to halve.", "use fewer down blocks")
        return (*out, self.p.filters)

    def scale(self) -> Fraction:
        return Fraction(2)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        from builder.blocks._keras_parts import conv_stack, nested

        pool = keras.layers.MaxPooling2D if self.p.pooling == "max" else keras.layers.AveragePooling2D
        return nested(self.id, tensors, lambda x: conv_stack(pool(2, name="pool")(x), self.p, self.p.residual))


class UpParams(ConvBlockParams):
    upsampling: Literal["transpose", "nearest", "bilinear"] = field(
        "transpose", help="How the image is doubled: learned (transpose) or interpolated (nearest, bilinear)."
    )
    residual: bool = field(False, help="Add a shortcut around the convolutions.")


@register_block("up_block")
class UpBlock(_ConvBlockBase[UpParams]):
    """Decoder step: doubles the image, joins the skip connection (concatenate), then a conv block."""

    Params = UpParams
    inputs = (Port("input", "image"), Port("skip", "image"))

    def infer(self, shapes: list[Shape]) -> Shape:
        self._check_groups()
        (h, w, _), skip = shapes
        up = (mul(h, 2), mul(w, 2), self.p.filters)
        if not same_spatial(up, skip):
            raise self.fail(
                f"input '{self.input_ids[0]}' {shape_text(shapes[0])} doubled is {shape_text(up)} but skip "
                f"'{self.input_ids[1]}' gives {shape_text(skip)}; they must have the same height and width.",
                "use an input (patch/tile) size divisible by 2 for every down-sampling step (e.g. 64, 128, 256)",
            )
        return up

    def scale(self) -> Fraction:
        return Fraction(1, 2)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        from builder.blocks._keras_parts import conv_stack, nested

        L, p = keras.layers, self.p

        def up(x: Any, skip: Any) -> Any:
            if p.upsampling == "transpose":
                x = L.Conv2DTranspose(p.filters, 2, strides=2, padding="same", name="up")(x)
            else:
                x = L.UpSampling2D(2, interpolation=p.upsampling, name="up")(x)
            x = L.Concatenate(name="concat")([x, skip])
            return conv_stack(x, p, p.residual)

        return nested(self.id, tensors, up)

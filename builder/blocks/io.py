"""The Input block: where images enter the network."""

from __future__ import annotations

from typing import Any

from builder.blocks.registry import Block, Shape, register_block
from builder.fields import Section, field


class InputParams(Section):
    channels: int | None = field(
        None, help="Number of image channels; taken from the recipe's data.channels when left out.", ge=1, le=64
    )
    size: int | None = field(
        None,
        help="Fixed square input size in pixels. Leave out for fully convolutional models so that whole images "
        "of any (divisible) size can be predicted; the patch size is used for the shape checks.",
        ge=8,
        le=8192,
        unit="px",
    )


@register_block("input")
class Input(Block[InputParams]):
    """Image input of the network (batch, height, width, channels)."""

    category = "Input"
    Params = InputParams
    inputs = ()

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = self.ctx.input_shape
        if self.p.size is not None:
            h = w = self.p.size
        return (h, w, self.p.channels or c)

    def needs_fixed_size(self) -> bool:
        return self.p.size is not None

    def build(self, tensors: list[Any]) -> Any:
        import keras

        h, w, c = self.infer([])
        if not self.ctx.fixed_size and self.p.size is None:
            h = w = None
        return keras.Input(shape=(h, w, c), name=self.id)

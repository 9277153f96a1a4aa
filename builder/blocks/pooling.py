"""Pooling blocks: shrink the image or collapse it to a vector."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from builder.blocks._shapes import conv_size
from builder.blocks.registry import Block, NoParams, Port, Shape, register_block, shape_text
from builder.fields import Section, field


class PoolParams(Section):
    pool_size: int = field(2, help="Side of the pooling window; 2 halves the image size.", ge=1, le=16, common=True)
    strides: int | None = field(None, help="Step of the window; equal to pool_size when left out.", ge=1, le=16)
    padding: Literal["valid", "same"] = field("valid", help="'valid' drops incomplete windows at the border.")


class _Pool(Block[PoolParams]):
    category = "Pooling"
    Params = PoolParams
    _layer = "MaxPooling2D"

    def _stride(self) -> int:
        return self.p.strides or self.p.pool_size

    def infer(self, shapes: list[Shape]) -> Shape:
        h, w, c = shapes[0]
        out = tuple(conv_size(n, self.p.pool_size, self._stride(), self.p.padding) for n in (h, w))
        if any(n is not None and n < 1 for n in out):
            raise self.fail(
                f"a {self.p.pool_size}x{self.p.pool_size} pooling window does not fit the input "
                f"{shape_text(shapes[0])}.",
                "use fewer pooling steps (a smaller depth) or a larger input size",
            )
        return (*out, c)

    def scale(self) -> Fraction:
        return Fraction(self._stride())

    def build(self, tensors: list[Any]) -> Any:
        import keras

        layer = getattr(keras.layers, self._layer)(
            self.p.pool_size, strides=self._stride(), padding=self.p.padding, name=self.id
        )
        return layer(tensors[0])


@register_block("max_pooling2d")
class MaxPooling2D(_Pool):
    """Keeps the largest value in each window (halves the image with pool_size 2)."""


@register_block("average_pooling2d")
class AveragePooling2D(_Pool):
    """Averages each window (halves the image with pool_size 2)."""

    _layer = "AveragePooling2D"


class _GlobalPool(Block[NoParams]):
    category = "Pooling"
    outputs = (Port("output", "vector"),)
    _layer = "GlobalAveragePooling2D"

    def infer(self, shapes: list[Shape]) -> Shape:
        return (shapes[0][2],)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return getattr(keras.layers, self._layer)(name=self.id)(tensors[0])


@register_block("global_average_pooling2d")
class GlobalAveragePooling2D(_GlobalPool):
    """Averages every feature map over the whole image: image -> vector (one value per channel)."""


@register_block("global_max_pooling2d")
class GlobalMaxPooling2D(_GlobalPool):
    """Takes the maximum of every feature map over the whole image: image -> vector."""

    _layer = "GlobalMaxPooling2D"

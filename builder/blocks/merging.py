"""Blocks that merge two or more tensors (skip connections)."""

from __future__ import annotations

from typing import Any

from builder.blocks._shapes import same_spatial
from builder.blocks.registry import Block, Port, Shape, register_block, shape_text
from builder.fields import Section, field


class MergeParams(Section):
    float32: bool = field(
        False, help="Compute in float32 even under mixed precision (use it when this node is the model output)."
    )


class _Merge(Block[MergeParams]):
    category = "Merge"
    Params = MergeParams
    inputs = (Port("inputs", "any"),)
    outputs = (Port("output", "any"),)
    variadic = True
    _layer = "Add"
    _what = "identical shapes"

    def _check(self, shapes: list[Shape], channels_too: bool) -> None:
        first, first_id = shapes[0], self.input_ids[0]
        for other, other_id in zip(shapes[1:], self.input_ids[1:], strict=False):
            if len(other) != len(first):
                raise self.fail(
                    f"input '{first_id}' gives {shape_text(first)} but input '{other_id}' gives {shape_text(other)}; "
                    f"an image and a vector cannot be merged.",
                    "merge tensors of the same kind (pool the image first with global_average_pooling2d)",
                )
            if len(first) == 3 and not same_spatial(first, other):
                raise self.fail(
                    f"input '{first_id}' gives {shape_text(first)} but input '{other_id}' gives {shape_text(other)}; "
                    f"{self.name} needs the same height and width. This happens when the input size is not "
                    f"divisible by 2 for every down-sampling step.",
                    self.ctx_fix(),
                )
            if channels_too and other[-1] is not None and first[-1] is not None and other[-1] != first[-1]:
                raise self.fail(
                    f"input '{first_id}' gives {shape_text(first)} but input '{other_id}' gives {shape_text(other)}; "
                    f"{self.name} needs {self._what}.",
                    f"give both inputs the same number of channels (e.g. a 1x1 conv2d with filters: {first[-1]} "
                    f"after '{other_id}'), or use concatenate",
                )

    def ctx_fix(self) -> str:
        factor = self.graph_factor or 2
        size = self.ctx.input_shape[0] or factor
        suggestion = max(factor, round(size / factor) * factor)
        return (
            f"use an input (patch/tile) size that is a multiple of the network's down-sampling factor {factor} "
            f"(e.g. {suggestion} instead of {size}), or reduce the depth"
        )

    def infer(self, shapes: list[Shape]) -> Shape:
        self._check(shapes, channels_too=True)
        return shapes[0]

    def build(self, tensors: list[Any]) -> Any:
        import keras

        dtype = "float32" if self.p.float32 else None
        return getattr(keras.layers, self._layer)(dtype=dtype, name=self.id)(list(tensors))


@register_block("add")
class Add(_Merge):
    """Adds two or more tensors of the same shape (residual connections)."""


@register_block("multiply")
class Multiply(_Merge):
    """Multiplies two or more tensors of the same shape element by element (gating)."""

    _layer = "Multiply"


@register_block("concatenate")
class Concatenate(_Merge):
    """Stacks two or more tensors along the channel axis (U-Net skip connections)."""

    _layer = "Concatenate"

    def infer(self, shapes: list[Shape]) -> Shape:
        self._check(shapes, channels_too=False)
        channels = [s[-1] for s in shapes]
        total = None if any(c is None for c in channels) else sum(channels)
        return (*shapes[0][:-1], total)

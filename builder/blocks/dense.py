"""Dense and reshaping blocks."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import Field

from builder.blocks.convolution import Activation
from builder.blocks.registry import Block, NoParams, Port, Shape, register_block, shape_text
from builder.fields import Section, field


class DenseParams(Section):
    units: int = field(64, help="Number of output features.", ge=1, le=65536, common=True)
    activation: Activation = field("linear", help="Activation applied after the layer.", common=True)
    use_bias: bool = field(True, help="Learn an additive bias per feature.")


@register_block("dense")
class Dense(Block[DenseParams]):
    """Fully connected layer: every output feature sees every input feature (on images: per pixel)."""

    category = "Dense"
    Params = DenseParams
    inputs = (Port("input", "any"),)
    outputs = (Port("output", "any"),)

    def infer(self, shapes: list[Shape]) -> Shape:
        return (*shapes[0][:-1], self.p.units)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        p = self.p
        return keras.layers.Dense(p.units, activation=p.activation, use_bias=p.use_bias, name=self.id)(tensors[0])


@register_block("flatten")
class Flatten(Block[NoParams]):
    """Unrolls an image into one long vector (needs a fixed input size)."""

    category = "Reshape"
    outputs = (Port("output", "vector"),)

    def infer(self, shapes: list[Shape]) -> Shape:
        if any(s is None for s in shapes[0]):
            raise self.fail(
                f"input '{self.input_ids[0]}' has an unknown size {shape_text(shapes[0])}.",
                "set a fixed 'size' on the input node, or use global_average_pooling2d instead of flatten",
            )
        return (math.prod(shapes[0]),)

    def needs_fixed_size(self) -> bool:
        return True

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.Flatten(name=self.id)(tensors[0])


class ReshapeParams(Section):
    target_shape: list[Annotated[int, Field(ge=-1, le=1_000_000)]] = field(
        ..., help="New shape without the batch axis, e.g. [8, 8, 16] (image) or [1024] (vector); -1 infers one axis.",
        min_length=1, max_length=3, common=True,
    )


@register_block("reshape")
class Reshape(Block[ReshapeParams]):
    """Changes the shape of a tensor without changing its values (same number of values)."""

    category = "Reshape"
    Params = ReshapeParams
    inputs = (Port("input", "any"),)
    outputs = (Port("output", "any"),)

    def infer(self, shapes: list[Shape]) -> Shape:
        target = list(self.p.target_shape)
        if len(target) == 2:
            raise self.fail(f"target_shape {target} has 2 axes.", "give 3 axes [H, W, C] or 1 axis [F]")
        if any(s is None for s in shapes[0]):
            raise self.fail(
                f"input '{self.input_ids[0]}' has an unknown size {shape_text(shapes[0])}.",
                "set a fixed 'size' on the input node",
            )
        total = math.prod(shapes[0])
        known = math.prod(t for t in target if t != -1)
        if target.count(-1) > 1 or (-1 in target and total % known) or (-1 not in target and known != total):
            raise self.fail(
                f"cannot reshape {shape_text(shapes[0])} ({total} values) to {target}.",
                f"choose a target_shape whose values multiply to {total}",
            )
        return tuple(total // known if t == -1 else t for t in target)

    def needs_fixed_size(self) -> bool:
        return True

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.Reshape(tuple(self.p.target_shape), name=self.id)(tensors[0])

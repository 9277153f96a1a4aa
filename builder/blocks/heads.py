"""Task heads: the last node of a model, matching what the task's loss expects.

Every head computes in float32 (also under mixed precision) so probabilities and regression values are exact.
"""

from __future__ import annotations

from typing import Any, Literal

from builder.blocks.registry import Block, P, Port, Shape, register_block, shape_text
from builder.fields import Section, field
from builder.tasks.star_convex import N_RAYS, RAY_UNIT

#: Default features of the star-convex head's hidden convolution (``InstanceHeadParams.star_features``).
STAR_FEATURES = 32


class ClassificationHeadParams(Section):
    n_classes: int | None = field(None, help="Number of classes; taken from the recipe's data.classes when left out.",
                                  ge=2, le=10000)
    activation: Literal["softmax", "sigmoid"] = field(
        "softmax", help="'softmax': one class per image; 'sigmoid': independent yes/no per class.", common=True
    )
    dropout: float = field(0.0, help="Dropout before the last layer (0 = off).", ge=0.0, lt=1.0, common=True)
    hidden_units: int = field(0, help="Size of an extra hidden dense layer (0 = none).", ge=0, le=65536)


@register_block("classification_head")
class ClassificationHead(Block[ClassificationHeadParams]):
    """Class probabilities (B, n_classes); images are averaged over space first."""

    category = "Head"
    Params = ClassificationHeadParams
    inputs = (Port("features", "any"),)
    outputs = (Port("probabilities", "vector"),)

    def classes(self) -> int:
        return self.p.n_classes or self.ctx.n_classes

    def infer(self, shapes: list[Shape]) -> Shape:
        return (self.classes(),)

    def build(self, tensors: list[Any]) -> Any:
        import keras

        from builder.blocks._keras_parts import apply_layers

        L, p = keras.layers, self.p
        specs: list[tuple[Any, dict]] = []
        if len(tensors[0].shape) == 4:
            specs.append((L.GlobalAveragePooling2D, {"name": "pool"}))
        if p.hidden_units:
            specs.append((L.Dense, {"units": p.hidden_units, "activation": "relu", "name": "hidden"}))
        if p.dropout:
            specs.append((L.Dropout, {"rate": p.dropout, "name": "dropout"}))
        specs.append((L.Dense, {"units": self.classes(), "activation": p.activation, "dtype": "float32",
                                "name": "classes"}))
        return apply_layers(self.id, tensors[0], specs)


class _PixelHead(Block[P]):
    category = "Head"

    def channels(self) -> int:
        raise NotImplementedError

    def activation(self) -> str:
        raise NotImplementedError

    def kernel_size(self) -> int:
        raise NotImplementedError

    def infer(self, shapes: list[Shape]) -> Shape:
        return (*shapes[0][:2], self.channels())

    def build(self, tensors: list[Any]) -> Any:
        import keras

        return keras.layers.Conv2D(
            self.channels(), self.kernel_size(), padding="same", activation=self.activation(), dtype="float32",
            name=self.id,
        )(tensors[0])


class SegmentationHeadParams(Section):
    n_classes: int | None = field(
        None, help="Number of classes including background; from the recipe's data.classes when left out.",
        ge=2, le=1000
    )
    kernel_size: int = field(1, help="Window of the final convolution.", ge=1, le=7, unit="px")


@register_block("segmentation_head")
class SegmentationHead(_PixelHead[SegmentationHeadParams]):
    """Per-pixel class probabilities (B, H, W, n_classes), softmax."""

    Params = SegmentationHeadParams

    def channels(self) -> int:
        return self.p.n_classes or self.ctx.n_classes

    def activation(self) -> str:
        return "softmax"

    def kernel_size(self) -> int:
        return self.p.kernel_size


class InstanceHeadParams(Section):
    target: Literal["auto", "three_class", "distance", "star_convex"] = field(
        "auto", help="'three_class': background/boundary/interior probabilities (3 channels, softmax); "
        "'distance': inner and outer distance maps (2 channels, linear); 'star_convex': object probability "
        f"(sigmoid) and distances to the edge along {N_RAYS} rays (linear), {N_RAYS + 1} channels; 'auto': the "
        "recipe's train.instance_target."
    )
    kernel_size: int = field(1, help="Window of the final convolution.", ge=1, le=7, unit="px")
    star_features: int = field(
        STAR_FEATURES, help=f"star_convex only: features of a 3x3 convolution (ReLU) between the network and the "
        f"probability and ray outputs (0 = none). The {N_RAYS} ray distances of a pixel are read from these "
        "features; the last level of a small U-Net has fewer features than there are rays.", ge=0, le=1024)


@register_block("instance_head")
class InstanceHead(_PixelHead[InstanceHeadParams]):
    """Instance-segmentation targets: 3-class softmax (B,H,W,3), two distance maps (B,H,W,2), or a star-convex
    object probability and ray distances (B,H,W,1+rays)."""

    Params = InstanceHeadParams

    def target(self) -> str:
        return self.ctx.instance_target if self.p.target == "auto" else self.p.target

    def channels(self) -> int:
        return {"three_class": 3, "star_convex": 1 + N_RAYS}.get(self.target(), 2)

    def activation(self) -> str:
        return "softmax" if self.target() == "three_class" else "linear"

    def kernel_size(self) -> int:
        return self.p.kernel_size

    def build(self, tensors: list[Any]) -> Any:
        if self.target() != "star_convex":
            return super().build(tensors)
        import keras

        L = keras.layers
        features = tensors[0]
        if self.p.star_features:
            features = L.Conv2D(self.p.star_features, 3, padding="same", activation="relu",
                                name=f"{self.id}_features")(features)
        prob = L.Conv2D(1, self.kernel_size(), padding="same", activation="sigmoid", dtype="float32",
                        name=f"{self.id}_probability")(features)
        rays = L.Conv2D(N_RAYS, self.kernel_size(), padding="same", activation="linear", dtype="float32",
                        name=f"{self.id}_rays")(features)
        # distances are tens of pixels: the convolution learns them in units of RAY_UNIT pixels, so that
        # optimiser steps (about the learning rate per weight) move them as fast as the probability
        rays = L.Rescaling(RAY_UNIT, dtype="float32", name=f"{self.id}_pixels")(rays)
        return L.Concatenate(axis=-1, dtype="float32", name=self.id)([prob, rays])


class RegressionHeadParams(Section):
    n_outputs: int | None = field(
        None, help="Output channels; the target images' channels from the recipe when left out.", ge=1, le=1024
    )
    kernel_size: int = field(1, help="Window of the final convolution.", ge=1, le=7, unit="px")


@register_block("regression_head")
class RegressionHead(Block[RegressionHeadParams]):
    """Image regression output (B, H, W, C_out), linear; with a second input, predicts a residual added to it."""

    category = "Head"
    Params = RegressionHeadParams
    inputs = (Port("features", "image"), Port("residual", "image"))
    min_inputs = 1

    def channels(self) -> int:
        return self.p.n_outputs or self.ctx.n_outputs

    def infer(self, shapes: list[Shape]) -> Shape:
        out = (*shapes[0][:2], self.channels())
        if len(shapes) == 2 and (shapes[1][:2] != out[:2] or shapes[1][2] not in (None, out[2])):
            raise self.fail(
                f"the prediction {shape_text(out)} cannot be added to residual input '{self.input_ids[1]}' "
                f"{shape_text(shapes[1])}.",
                "a residual output needs as many output channels as input channels; remove the second input "
                "(residual: false in the restoration template)",
            )
        return out

    def build(self, tensors: list[Any]) -> Any:
        import keras

        from builder.blocks._keras_parts import nested

        L, p = keras.layers, self.p
        def conv(name: str) -> Any:
            return L.Conv2D(self.channels(), p.kernel_size, padding="same", dtype="float32", name=name)

        if len(tensors) == 1:
            return conv(self.id)(tensors[0])

        def residual(x: Any, image: Any) -> Any:
            return L.Add(dtype="float32", name="add_input")([conv("delta")(x), image])

        return nested(self.id, tensors, residual)

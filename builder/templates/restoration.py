"""CARE-style restoration network: a small U-Net that predicts a correction added to the input."""

from __future__ import annotations

from typing import Any, Literal

from builder.blocks.context import ModelContext
from builder.blocks.convolution import Activation
from builder.errors import GraphError
from builder.fields import Section, field
from builder.templates.base import GraphWriter, Template, register_template
from builder.templates.unet import unet_body


class RestorationParams(Section):
    depth: int = field(2, help="Down-sampling steps; input sizes must be multiples of 2^depth.", ge=1, le=5,
                       common=True)
    base_filters: int = field(32, help="Channels of the first level; doubled at every level down.", ge=1, le=512,
                              common=True)
    n_convs: int = field(2, help="Convolutions per block.", ge=1, le=4)
    kernel_size: int = field(5, help="Convolution window (CARE uses 5).", ge=1, le=9, unit="px")
    norm: Literal["batch", "group", "layer", "none"] = field("none", help="Normalisation in every block.")
    groups: int = field(4, help="Channel groups for group normalisation.", ge=1, le=512)
    activation: Activation = field("relu", help="Activation in every block.")
    dropout: float = field(0.0, help="Spatial dropout in the bottleneck and decoder.", ge=0.0, lt=1.0)
    residual: bool = field(
        True, help="Predict a correction that is added to the input (needs as many output as input channels).",
        common=True,
    )
    upsampling: Literal["transpose", "nearest", "bilinear"] = field(
        "nearest", help="How the decoder doubles the image."
    )


@register_template("restoration")
class Restoration(Template):
    """CARE-style image restoration (Weigert 2018): U-Net with a residual, linear output."""

    Params = RestorationParams
    outputs = ("image",)

    @classmethod
    def downsampling_factor(cls, params: Any) -> int:
        return 2 ** cls.params(params).depth

    @classmethod
    def expand(cls, params: Any, ctx: ModelContext) -> list[dict[str, Any]]:
        cls.check_task(ctx)
        p = cls.params(params)
        if p.residual and ctx.n_outputs != ctx.input_shape[-1]:
            raise GraphError(
                "model.params.residual",
                f"a residual output adds the prediction to the input, but the input has {ctx.input_shape[-1]} "
                f"channel(s) and the target {ctx.n_outputs}.",
                "set residual: false",
            )
        settings = p.model_dump()
        settings.update(block="plain", attention=False)
        g = GraphWriter()
        g.add("input", "input")
        x = unet_body(g, _Settings(**settings))
        g.add("head", "regression_head", [x, "input"] if p.residual else [x])
        return g.nodes


class _Settings:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

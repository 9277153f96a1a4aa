"""Feature pyramid network with a pretrained backbone and one or more semantic heads (PanopticNet spirit)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from builder.blocks.backbone import BackboneParams
from builder.blocks.context import ModelContext
from builder.errors import GraphError
from builder.fields import Section, field
from builder.tasks import get_task
from builder.templates.base import GraphWriter, Template, backbone_params, register_template


class FPNParams(Section):
    backbone: BackboneParams = field(default_factory=BackboneParams, help="Pretrained encoder.", common=True)
    levels: list[Annotated[int, Field(ge=2, le=32)]] = field(
        default_factory=lambda: [4, 8, 16, 32],
        help="Backbone strides that form the pyramid (P2..P5 are strides 4, 8, 16, 32).", min_length=1,
        max_length=5,
    )
    pyramid_filters: int = field(64, help="Channels of every pyramid level.", ge=1, le=1024, common=True)
    head_filters: int = field(32, help="Channels of the convolutions in each semantic head.", ge=1, le=1024)
    norm: Literal["batch", "group", "layer", "none"] = field("batch", help="Normalisation in the semantic heads.")
    upsampling: Literal["nearest", "bilinear"] = field("bilinear", help="How coarse levels are enlarged.")
    separate_heads: bool = field(
        True, help="Instance segmentation with the distance target: one semantic head per distance map "
        "(inner, outer), joined into one output.",
    )


@register_template("fpn")
class FPN(Template):
    """FPN/PanopticNet-style model: backbone, top-down feature pyramid, semantic head(s) at full resolution."""

    Params = FPNParams
    outputs = ("pixel_classes", "instance_maps")

    @classmethod
    def downsampling_factor(cls, params: Any) -> int:
        return 32

    @classmethod
    def expand(cls, params: Any, ctx: ModelContext) -> list[dict[str, Any]]:
        cls.check_task(ctx)
        p = cls.params(params)
        levels = sorted(set(p.levels))
        if any(s not in (2, 4, 8, 16, 32) for s in levels):
            raise GraphError("model.params.levels", f"levels must be backbone strides 2, 4, 8, 16 or 32; got {levels}.",
                             "use e.g. levels: [4, 8, 16, 32]")
        g = GraphWriter()
        g.add("input", "input")
        g.add("encoder", "backbone", ["input"], **backbone_params(p.backbone))
        top = levels[-1]
        pyramid = {top: g.add(f"lat{top}", "conv2d", [f"encoder.s{top}"], filters=p.pyramid_filters, kernel_size=1)}
        for s in reversed(levels[:-1]):
            lat = g.add(f"lat{s}", "conv2d", [f"encoder.s{s}"], filters=p.pyramid_filters, kernel_size=1)
            up = g.add(f"topdown{s}", "upsampling2d", [pyramid[_next(levels, s)]], size=_next(levels, s) // s,
                       interpolation=p.upsampling)
            pyramid[s] = g.add(f"p{s}_merge", "add", [lat, up])
        low = levels[0]
        smooth = [g.add(f"p{s}", "conv2d", [pyramid[s]], filters=p.pyramid_filters, activation="relu")
                  for s in levels]
        resized = [smooth[0]] + [
            g.add(f"sem_up{s}", "upsampling2d", [smooth[i + 1]], size=s // low, interpolation=p.upsampling)
            for i, s in enumerate(levels[1:])
        ]
        x = g.add("sem_merge", "add", resized) if len(resized) > 1 else resized[0]
        if low > 1:
            x = g.add("sem_full", "upsampling2d", [x], size=low, interpolation=p.upsampling)
        block = {"filters": p.head_filters, "norm": p.norm, "groups": 4 if p.norm == "group" else None}
        distance = get_task(ctx.task).variant_for(instance_target=ctx.instance_target) == "distance"
        if distance and p.separate_heads:
            heads = []
            for name in ("inner_distance", "outer_distance"):
                trunk = g.add(f"{name}_conv", "conv_block", [x], **block)
                heads.append(g.add(name, "regression_head", [trunk], n_outputs=1))
            g.add("head", "concatenate", heads, float32=True)
        else:
            trunk = g.add("semantic_conv", "conv_block", [x], **block)
            g.head(ctx, trunk)
        return g.nodes


def _next(levels: list[int], s: int) -> int:
    return levels[levels.index(s) + 1]

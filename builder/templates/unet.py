"""U-Net: encoder-decoder with skip connections; optionally a pretrained encoder (``backbone:``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from builder.blocks.backbone import BackboneParams
from builder.blocks.context import ModelContext
from builder.blocks.convolution import Activation
from builder.fields import Section, field
from builder.templates.base import GraphWriter, Template, backbone_params, register_template


class UNetParams(Section):
    depth: int = field(3, help="Number of down-sampling steps; input sizes must be multiples of 2^depth.",
                       ge=1, le=6, common=True, suggested=[2, 3, 4, 5])
    base_filters: int = field(32, help="Channels of the first level; doubled at every level down.", ge=1, le=1024,
                              common=True, suggested=[16, 32, 64])
    block: Literal["plain", "residual"] = field("plain", help="Plain conv blocks or residual blocks.", common=True)
    n_convs: int = field(2, help="Convolutions per block.", ge=1, le=4)
    kernel_size: int = field(3, help="Convolution window.", ge=1, le=9, unit="px")
    norm: Literal["batch", "group", "layer", "none"] = field("batch", help="Normalisation in every block.",
                                                             common=True)
    groups: int = field(4, help="Channel groups for group normalisation (must divide base_filters).", ge=1, le=1024)
    activation: Activation = field("relu", help="Activation in every block.")
    dropout: float = field(0.0, help="Spatial dropout in the bottleneck and decoder blocks.", ge=0.0, lt=1.0,
                           common=True)
    attention: bool = field(False, help="Attention gates on the skip connections (Attention U-Net).", common=True)
    upsampling: Literal["transpose", "nearest", "bilinear"] = field(
        "transpose", help="How the decoder doubles the image: learned (transpose) or interpolated."
    )
    backbone: BackboneParams | None = field(
        None, help="Pretrained encoder replacing the U-Net's own (depth then counts backbone levels, at most 5).",
        common=True,
    )
    grid: int = field(
        1, ge=1, le=2, common=True,
        help="2: one convolution block at full resolution, then the whole U-Net at half resolution, its output "
        "repeated back to full size (StarDist's grid). The network takes about half the time; meant for "
        "star-convex instances (train.instance_target: star_convex) about 15 px or more across at the network's "
        "scale, whose outlines are drawn at full resolution from the predicted distances; other outputs come out "
        "in blocks of 2x2 pixels.",
    )

    @model_validator(mode="after")
    def _grid_without_backbone(self) -> UNetParams:
        if self.grid != 1 and self.backbone is not None:
            raise ValueError("grid: 2 cannot be combined with a pretrained backbone (its encoder starts at full "
                             "resolution); remove one of them")
        return self


def _block(p: Any, filters: int, dropout: float = 0.0) -> dict[str, Any]:
    return {
        "filters": filters, "n_convs": p.n_convs, "kernel_size": p.kernel_size, "norm": p.norm,
        "groups": p.groups if p.norm == "group" else None, "activation": p.activation,
        "dropout": dropout or None,
    }


def decoder_step(g: GraphWriter, p: Any, level: int, x: str, skip: str | None, filters: int) -> str:
    """Up-sample ``x``, (gate and) concatenate ``skip`` (if any), conv block; returns the block's id."""
    if p.upsampling == "transpose":
        x = g.add(f"up{level}", "conv2d_transpose", [x], filters=filters)
    else:
        x = g.add(f"up{level}", "upsampling2d", [x], interpolation=p.upsampling)
    if skip is not None:
        if p.attention:
            skip = g.add(f"att{level}", "attention_gate", [skip, x])
        x = g.add(f"cat{level}", "concatenate", [x, skip])
    kind = "residual_block" if p.block == "residual" else "conv_block"
    return g.add(f"dec{level}", kind, [x], **_block(p, filters, p.dropout))


def unet_body(g: GraphWriter, p: Any, start: str = "input") -> str:
    """Encoder, bottleneck and decoder of a plain U-Net after node ``start``; returns the last decoder id."""
    kind = "residual_block" if p.block == "residual" else "conv_block"
    x, skips = start, []
    for level in range(p.depth):
        x = g.add(f"enc{level}", kind, [x], **_block(p, p.base_filters * 2**level))
        skips.append(x)
        x = g.add(f"pool{level + 1}", "max_pooling2d", [x])
    x = g.add("bottleneck", kind, [x], **_block(p, p.base_filters * 2**p.depth, p.dropout))
    for level in reversed(range(p.depth)):
        x = decoder_step(g, p, level, x, skips[level], p.base_filters * 2**level)
    return x


def backbone_body(g: GraphWriter, p: Any, ctx: ModelContext | None = None) -> str:
    """Pretrained encoder + U-Net decoder; the last step joins the full-resolution input."""
    from builder.backbones.catalog import get_backbone

    if p.backbone.from_:  # a shared model: its own strides (read from the file, no TensorFlow)
        from builder.backbones.shared import resolve_shared_path, shared_facts

        strides = shared_facts(resolve_shared_path(p.backbone.from_, ctx.base_dir if ctx else None)).strides
    else:
        strides = get_backbone(p.backbone.name).strides
    depth = min(p.depth, 5)
    g.add("encoder", "backbone", ["input"], **backbone_params(p.backbone))
    x = f"encoder.s{2**depth}"
    for level in reversed(range(depth)):
        skip = f"encoder.s{2**level}" if 2**level in strides else None
        x = decoder_step(g, p, level, x, skip if level else "input", p.base_filters * 2**level)
    return x


@register_template("unet")
class UNet(Template):
    """U-Net (Ronneberger 2015): encoder-decoder with skips; plain/residual, attention, or a pretrained encoder."""

    Params = UNetParams
    outputs = ("pixel_classes", "instance_maps", "image")

    @classmethod
    def downsampling_factor(cls, params: Any) -> int:
        p = cls.params(params)
        return 32 if p.backbone is not None else 2**p.depth * p.grid

    @classmethod
    def expand(cls, params: Any, ctx: ModelContext) -> list[dict[str, Any]]:
        cls.check_task(ctx)
        p = cls.params(params)
        g = GraphWriter()
        g.add("input", "input")
        if p.grid != 1:
            return grid_nodes(g, p, ctx)
        x = backbone_body(g, p, ctx) if p.backbone is not None else unet_body(g, p)
        g.head(ctx, x)
        return g.nodes


def grid_nodes(g: GraphWriter, p: Any, ctx: ModelContext) -> list[dict[str, Any]]:
    """``grid: 2``: a full-resolution block, 2x max pooling, the U-Net and the head at half resolution, and the
    head's output repeated to full size (nearest neighbour), so every later step sees an output of the input's size.

    The repeat is the last node: its 2x2 copies of each output pixel cost little next to the convolutions it
    saves, and a star-convex output keeps its distances in pixels of the input (the head learns them so).
    """
    kind = "residual_block" if p.block == "residual" else "conv_block"
    stem = g.add("stem", kind, ["input"], **_block(p, p.base_filters))
    x = unet_body(g, p, g.add("pool_grid", "max_pooling2d", [stem], pool_size=p.grid))
    g.add("output_grid", "upsampling2d", [g.head(ctx, x)], size=p.grid, interpolation="nearest")
    return g.nodes

"""Image classifier: a pretrained backbone or a small CNN, then pooling and a dense head."""

from __future__ import annotations

from typing import Any, Literal

from builder.blocks.backbone import BackboneParams
from builder.blocks.context import ModelContext
from builder.fields import Section, field
from builder.templates.base import GraphWriter, Template, backbone_params, register_template


class ClassifierParams(Section):
    backbone: BackboneParams | None = field(
        None, help="Pretrained encoder; a small CNN trained from scratch when left out.", common=True
    )
    depth: int = field(4, help="Conv blocks of the small CNN (each halves the image); 4 suits 64 px crops.",
                       ge=1, le=6, common=True)
    base_filters: int = field(16, help="Channels of the first conv block of the small CNN; doubled per block.",
                              ge=1, le=512)
    norm: Literal["batch", "group", "layer", "none"] = field("batch", help="Normalisation in the small CNN.")
    pooling: Literal["average", "max", "flatten"] = field(
        "average", help="How the feature maps become a vector: global average, global max, or flatten.", common=True
    )
    dropout: float = field(0.2, help="Dropout before the last layer.", ge=0.0, lt=1.0, common=True)
    hidden_units: int = field(0, help="Extra hidden dense layer (0 = none).", ge=0, le=8192)
    activation: Literal["softmax", "sigmoid"] = field(
        "softmax", help="'softmax': one class per image; 'sigmoid': independent yes/no per class."
    )


@register_template("classifier")
class Classifier(Template):
    """Classifier of cell images: backbone (or small CNN) -> pooling -> dense head."""

    Params = ClassifierParams
    outputs = ("class_vector",)

    @classmethod
    def downsampling_factor(cls, params: Any) -> int:
        p = cls.params(params)
        return 32 if p.backbone is not None else 2**p.depth

    @classmethod
    def expand(cls, params: Any, ctx: ModelContext) -> list[dict[str, Any]]:
        cls.check_task(ctx)
        p = cls.params(params)
        g = GraphWriter()
        x = g.add("input", "input")
        if p.backbone is not None:
            x = g.add("encoder", "backbone", [x], **backbone_params(p.backbone))
        else:
            for level in range(p.depth):
                x = g.add(f"conv{level}", "conv_block", [x], filters=p.base_filters * 2**level, norm=p.norm)
                x = g.add(f"pool{level + 1}", "max_pooling2d", [x])
        pool = {"average": "global_average_pooling2d", "max": "global_max_pooling2d", "flatten": "flatten"}
        x = g.add("pool", pool[p.pooling], [x])
        g.head(ctx, x, dropout=p.dropout or None, hidden_units=p.hidden_units or None,
               activation=None if p.activation == "softmax" else p.activation)
        return g.nodes

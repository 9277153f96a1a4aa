"""``BackboneParams``: the recipe parameters of a pretrained backbone (used by the Backbone block and templates)."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import field_validator

from builder.backbones.catalog import BACKBONES, get_backbone
from builder.errors import GraphError
from builder.recipe.fields import Section, field


class FreezeUntil(Section):
    """Keep the backbone frozen for the first N epochs, then fine-tune it."""

    until_epoch: int = field(..., ge=0, unit="epochs",
                             help="Epoch (counted from 0) at which the backbone is unfrozen and starts to learn.")


class FreezeUpTo(Section):
    """Freeze the backbone's layers up to and including LAYER; later layers learn."""

    up_to: str = field(..., help="Name of the last frozen layer of the backbone (e.g. block_6_expand_relu).")


class BackboneParams(Section):
    """A pretrained keras.applications encoder: which one, which weights, how channels reach it, what is frozen."""

    name: str = field("mobilenet_v2", help="Backbone architecture (see `cellwright weights list`).", common=True,
                      label="Backbone", suggested=list(BACKBONES))
    weights: str = field(
        "imagenet", common=True, suggested=["imagenet", "none"], widget="path",
        help="'imagenet' (pretrained; from the Keras cache or downloaded once), 'none' (random start) or the path "
             "of a weights file.",
    )
    channel_mode: Literal["repeat", "project"] = field(
        "repeat", label="Channels to RGB", suggested=["repeat", "project"],
        help="How 1, 2 or 4 channel images reach the 3-channel backbone: 'repeat' copies (or averages) the "
             "channels; 'project' learns a 1x1 convolution.",
    )
    freeze: Union[Literal["all", "none"], FreezeUntil, FreezeUpTo] = field(
        "none", common=True, suggested=["none", "all", {"until_epoch": 5}],
        help="What of the backbone does not learn: 'all', 'none', {until_epoch: N} (frozen, then fine-tuned from "
             "epoch N) or {up_to: LAYER}. Frozen BatchNormalization layers keep their ImageNet statistics.",
    )

    @field_validator("name")
    @classmethod
    def _known_backbone(cls, value: str) -> str:
        try:
            return get_backbone(value).name
        except GraphError as error:
            raise ValueError(f"{error.what} {error.fix}") from error

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: str) -> str:
        value = str(value).strip()
        if not value:
            raise ValueError("Expected 'imagenet', 'none' or the path of a weights file. Received: weights=''")
        lowered = value.lower()
        return lowered if lowered in ("imagenet", "none") else value

    def freeze_policy(self) -> str | dict:
        """The freeze policy as plain data (``"all"``, ``"none"``, ``{"until_epoch": N}``, ``{"up_to": LAYER}``)."""
        return self.freeze if isinstance(self.freeze, str) else self.freeze.model_dump()

"""``BackboneParams``: the recipe parameters of a pretrained backbone (used by the Backbone block and templates)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, field_validator, model_validator

from builder.backbones.catalog import BACKBONES, get_backbone
from builder.errors import GraphError
from builder.fields import Section, field


class FreezeUntil(Section):
    """Keep the backbone frozen for the first N epochs, then fine-tune it."""

    until_epoch: int = field(..., ge=0, le=100_000, unit="epochs",
                             help="Epoch (counted from 0) at which the backbone is unfrozen and starts to learn.")


class FreezeUpTo(Section):
    """Freeze the backbone's layers up to and including LAYER; later layers learn."""

    up_to: str = field(..., help="Name of the last frozen layer of the backbone (e.g. block_6_expand_relu).")


class BackboneParams(Section):
    """A pretrained encoder: a keras.applications model (``name``) or a colleague's shared model (``from``).

    In YAML the shared model is the key ``from`` (``backbone: {from: colleague.zip, freeze: all}``); in Python
    the field is ``from_`` (``from`` is a keyword). Either spelling is accepted; dumps write ``from``.
    """

    model_config = ConfigDict(**Section.model_config, validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    name: str | None = field("mobilenet_v2", help="Backbone architecture (see `cellwright weights list`); leave "
                             "out when `from` names a shared model.", common=True, label="Backbone",
                             suggested=list(BACKBONES))
    from_: Annotated[str | None, Field(alias="from")] = field(
        None, common=True, widget="path", label="From shared model",
        help="A colleague's shared model (Cellwright bundle .zip, bioimage.io .zip, .keras file or a whole model "
             "saved by Keras as .h5; relative to "
             "the recipe's folder) whose encoder, with its trained weights, starts this model. Replaces `name`.",
    )
    weights: str = field(
        "imagenet", common=True, suggested=["imagenet", "none"], widget="path",
        help="'imagenet' (pretrained; from the Keras cache or downloaded once), 'none' (random start) or the path "
             "of a weights file. Ignored with `from` (the shared model's own weights are used).",
    )
    channel_mode: Literal["repeat", "project", "match"] = field(
        "repeat", label="Channels to RGB", suggested=["repeat", "project"],
        help="How the image channels reach the backbone: 'repeat' copies (or averages) them; 'project' learns a "
             "1x1 convolution. With `from` the default is 'match': the images must have the shared model's "
             "channel count (set 'repeat' or 'project' to adapt other counts).",
    )
    freeze: Union[Literal["all", "none"], FreezeUntil, FreezeUpTo] = field(
        "none", common=True, suggested=["none", "all", {"until_epoch": 5}],
        help="What of the backbone does not learn: 'all', 'none', {until_epoch: N} (frozen, then fine-tuned from "
             "epoch N) or {up_to: LAYER}. Frozen BatchNormalization layers keep their ImageNet statistics.",
    )

    @model_validator(mode="before")
    @classmethod
    def _name_or_from(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        source = data.get("from", data.get("from_"))
        if source is not None and str(source).strip():
            if data.get("name") is not None:
                raise ValueError(
                    "give either `name` (a catalogue backbone) or `from` (a shared model file), not both. "
                    f"Received: name={data['name']!r}, from={source!r}"
                )
            return {**data, "name": None, "channel_mode": data.get("channel_mode", "match")}
        if "name" in data and data["name"] is None:
            raise ValueError("give `name` (a catalogue backbone such as mobilenet_v2) or `from` (the path of a "
                             "shared model). Received: name=None")
        if data.get("channel_mode") == "match":
            raise ValueError("channel_mode 'match' is for shared models (`from`); catalogue backbones take "
                             "'repeat' or 'project'. Received: channel_mode='match'")
        return data

    @field_validator("from_")
    @classmethod
    def _from(cls, value: str | None) -> str | None:
        if value is not None and not str(value).strip():
            raise ValueError("Expected the path of a shared model (bundle .zip, bioimage.io .zip, .keras or .h5). "
                             "Received: from=''")
        return value

    @field_validator("name")
    @classmethod
    def _known_backbone(cls, value: str | None) -> str | None:
        if value is None:
            return None
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

"""Pretrained ``keras.applications`` encoders (catalogue, building, freezing). No Keras import here."""

from builder.backbones.catalog import BACKBONES, BackboneInfo, get_backbone

__all__ = ["BACKBONES", "BackboneInfo", "get_backbone"]

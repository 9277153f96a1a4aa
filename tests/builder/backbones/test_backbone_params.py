"""BackboneParams: names normalised, freeze spellings, unknown keys rejected."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from builder.backbones.params import BackboneParams


def test_defaults_and_spellings():
    params = BackboneParams()
    assert (params.name, params.weights, params.channel_mode, params.freeze_policy()) == \
        ("mobilenet_v2", "imagenet", "repeat", "none")
    params = BackboneParams(name="EfficientNetB0", weights="ImageNet", freeze={"until_epoch": 3})
    assert params.name == "efficientnet_b0" and params.weights == "imagenet"
    assert params.freeze_policy() == {"until_epoch": 3}
    assert BackboneParams(freeze={"up_to": "block_6_expand_relu"}).freeze_policy() == {"up_to": "block_6_expand_relu"}
    assert BackboneParams(weights="weights/my.h5").weights == "weights/my.h5"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "resnet5"}, "Did you mean 'resnet50'"),
    ({"channel_mode": "tile"}, "repeat"),
    ({"freeze": {"until_epoch": -1}}, "greater than or equal to 0"),
    ({"freeze": "some"}, "freeze"),
    ({"weights": ""}, "imagenet"),
    ({"frozen": "all"}, "Extra inputs are not permitted"),
])
def test_invalid_values_are_explained(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        BackboneParams(**kwargs)

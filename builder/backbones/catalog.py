"""Catalogue of the pretrained ``keras.applications`` encoders Cellwright can use as backbones.

Every entry says which Keras constructor builds it, which layers give the skip taps (feature maps keyed by
their stride relative to the input: 2, 4, 8, 16, 32 where the architecture has them), how its input must be
scaled, and which file holds its ImageNet weights (the "no top" variant used as an encoder) in the Keras
cache (``$KERAS_HOME/models``, default ``~/.keras/models``).

The layer names were read off each model built with ``weights=None`` (Keras 3.15); a test builds every
backbone and checks each tap exists and has the stride it is filed under. A tap written ``"conv_bn+"`` means
"the layer right after ``conv_bn``": MobileNetV3 gives its activations automatic names (``activation_17``)
that change from one build to the next, so they are found through the named layer before them.

This module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from builder.errors import GraphError

#: How the input of a family is scaled from the 0..1 images the engine feeds (see ``BackboneInput``):
#: ``tf``: 2x-1 (-1..1); ``caffe``: RGB->BGR then 255x minus the ImageNet BGR mean; ``torch``: (x - mean) / std
#: with the ImageNet RGB mean/std; ``builtin``: 255x, the model rescales 0..255 itself
#: (``include_preprocessing`` / built-in Rescaling+Normalization layers).
PREPROCESSING = ("tf", "caffe", "torch", "builtin")

_GS = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class BackboneInfo:
    """One pretrained encoder: how to build it, where its skip taps are, and its weights file."""

    name: str
    constructor: str  # attribute of keras.applications
    taps: dict[int, str]  # stride -> layer name ("name+" = the layer right after "name")
    preprocessing: str  # one of PREPROCESSING
    weights_file: str  # exact file name in $KERAS_HOME/models (no-top variant)
    weights_url: str
    weights_hash: str | None  # the hash Keras checks (md5 or sha256); None: Keras checks none
    params_millions: float  # encoder parameters (no top), rounded
    description: str
    min_size: int = 32
    kwargs: dict = field(default_factory=dict)  # extra constructor arguments
    #: EfficientNet (v1) ImageNet weights need their Normalization variance corrected (see build.py)
    fix_normalization: bool = False

    @property
    def strides(self) -> tuple[int, ...]:
        return tuple(sorted(self.taps))

    def tap_layer_names(self) -> list[str]:
        """Names of the named layers the taps refer to (without the ``+`` marker)."""
        return [spec.rstrip("+") for spec in self.taps.values()]


def _mobilenet_v3(size: str, taps: dict[int, str], digest: str, params: float) -> BackboneInfo:
    file = f"weights_mobilenet_v3_{size}_224_1.0_float_no_top_v2.h5"
    return BackboneInfo(
        name=f"mobilenet_v3_{size}", constructor=f"MobileNetV3{size.capitalize()}", taps=taps,
        preprocessing="builtin", weights_file=file, weights_url=_GS + "mobilenet_v3/" + file, weights_hash=digest,
        params_millions=params, description=f"MobileNetV3-{size.capitalize()}: fast and light, good for CPUs.",
    )


def _efficientnet(variant: str, digest: str, params: float) -> BackboneInfo:
    file = f"efficientnet{variant}_notop.h5"
    return BackboneInfo(
        name=f"efficientnet_{variant}", constructor=f"EfficientNet{variant.upper()}",
        taps={2: "block2a_expand_activation", 4: "block3a_expand_activation", 8: "block4a_expand_activation",
              16: "block6a_expand_activation", 32: "top_activation"},
        preprocessing="builtin", weights_file=file,
        weights_url="https://storage.googleapis.com/keras-applications/" + file, weights_hash=digest,
        params_millions=params, fix_normalization=True,
        description=f"EfficientNet-{variant.upper()}: accurate for its size; larger numbers are bigger and slower.",
    )


def _efficientnet_v2(variant: str, digest: str, params: float) -> BackboneInfo:
    file = f"efficientnetv2-{variant}_notop.h5"
    first = {"b0": "block1a_project_activation"}.get(variant, "block1b_add")
    fourth = {"b0": "block2b_add"}.get(variant, "block2c_add")
    return BackboneInfo(
        name=f"efficientnet_v2_{variant}", constructor=f"EfficientNetV2{variant.upper()}",
        taps={2: first, 4: fourth, 8: "block4a_expand_activation", 16: "block6a_expand_activation",
              32: "top_activation"},
        preprocessing="builtin", weights_file=file, weights_url=_GS + "efficientnet_v2/" + file, weights_hash=digest,
        params_millions=params, description=f"EfficientNetV2-{variant.upper()}: faster to train than EfficientNet.",
    )


_ENTRIES = [
    BackboneInfo(
        name="mobilenet_v2", constructor="MobileNetV2",
        taps={2: "block_1_expand_relu", 4: "block_3_expand_relu", 8: "block_6_expand_relu",
              16: "block_13_expand_relu", 32: "out_relu"},
        preprocessing="tf", weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        weights_url=_GS + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        weights_hash=None, params_millions=2.3,
        description="MobileNetV2: small and fast; a good first choice for U-Nets on a laptop.",
    ),
    _mobilenet_v3("small", {2: "conv_bn+", 4: "expanded_conv_1_expand_bn+", 8: "expanded_conv_3_expand_bn+",
                            16: "expanded_conv_8_expand_bn+", 32: "conv_1_bn+"},
                  "d3e8ec802a04aa4fc771ee12a9a9b836", 0.9),
    _mobilenet_v3("large", {2: "expanded_conv_1_expand_bn+", 4: "expanded_conv_3_expand_bn+",
                            8: "expanded_conv_6_expand_bn+", 16: "expanded_conv_12_expand_bn+", 32: "conv_1_bn+"},
                  "07fb09a5933dd0c8eaafa16978110389", 3.0),
    BackboneInfo(
        name="resnet50", constructor="ResNet50",
        taps={2: "conv1_relu", 4: "conv2_block3_out", 8: "conv3_block4_out", 16: "conv4_block6_out",
              32: "conv5_block3_out"},
        preprocessing="caffe", weights_file="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_GS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_hash="4d473c1dd8becc155b73f8504c6f6626", params_millions=23.6,
        description="ResNet50: the classic strong baseline; large.",
    ),
    BackboneInfo(
        name="resnet50_v2", constructor="ResNet50V2",
        taps={2: "conv1_conv", 4: "conv2_block3_preact_relu", 8: "conv3_block4_preact_relu",
              16: "conv4_block6_preact_relu", 32: "post_relu"},
        preprocessing="tf", weights_file="resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_GS + "resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_hash="fac2f116257151a9d068a22e544a4917", params_millions=23.6,
        description="ResNet50V2: ResNet50 with pre-activation blocks.",
    ),
    _efficientnet("b0", "50bc09e76180e00e4465e1a485ddc09d", 4.0),
    _efficientnet("b1", "74c4e6b3e1f6a1eea24c589628592432", 6.6),
    _efficientnet("b2", "111f8e2ac8aa800a7a99e3239f7bfb39", 7.8),
    _efficientnet("b3", "af6d107764bb5b1abb91932881670226", 10.8),
    _efficientnet_v2("b0", "893217f2bb855e2983157299931e43ff", 5.9),
    _efficientnet_v2("b1", "0e80663031ca32d657f9caa404b6ec37", 6.9),
    _efficientnet_v2("b2", "1dfe2e7a5d45b6632553a8961ea609eb", 8.8),
    BackboneInfo(
        name="densenet121", constructor="DenseNet121",
        taps={2: "conv1_relu", 4: "pool2_relu", 8: "pool3_relu", 16: "pool4_relu", 32: "relu"},
        preprocessing="torch", weights_file="densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_GS + "densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_hash="30ee3e1110167f948a6b9946edeeb738", params_millions=7.0,
        description="DenseNet121: compact for its accuracy, but slow and memory hungry to train.",
    ),
    BackboneInfo(
        name="convnext_tiny", constructor="ConvNeXtTiny",
        taps={4: "convnext_tiny_stage_0_block_2_identity", 8: "convnext_tiny_stage_1_block_2_identity",
              16: "convnext_tiny_stage_2_block_8_identity", 32: "convnext_tiny_stage_3_block_2_identity"},
        preprocessing="builtin", weights_file="convnext_tiny_notop.h5",
        weights_url=_GS + "convnext/convnext_tiny_notop.h5",
        weights_hash="d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1", params_millions=27.8,
        description="ConvNeXt-Tiny: modern and accurate; large, and its first tap is at stride 4.",
    ),
    BackboneInfo(
        name="vgg16", constructor="VGG16",
        taps={2: "block2_conv2", 4: "block3_conv3", 8: "block4_conv3", 16: "block5_conv3", 32: "block5_pool"},
        preprocessing="caffe", weights_file="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url=_GS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_hash="6d6bbae143d832006294945121d1f1fc", params_millions=14.7,
        description="VGG16: simple and heavy; the original U-Net-style encoder.",
    ),
]

#: Every backbone, by its recipe name (e.g. ``mobilenet_v2``).
BACKBONES: dict[str, BackboneInfo] = {info.name: info for info in _ENTRIES}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_KEY = {_key(info.name): info for info in _ENTRIES} | {_key(info.constructor): info for info in _ENTRIES}


def get_backbone(name: str, *, where: str = "backbone") -> BackboneInfo:
    """Return the catalogue entry for ``name``.

    Accepts the recipe spelling (``mobilenet_v2``) and the Keras spelling (``MobileNetV2``).

    Raises
    ------
    GraphError
        If no backbone has that name; the message suggests the closest names.
    """
    info = _BY_KEY.get(_key(str(name)))
    if info is not None:
        return info
    close = difflib.get_close_matches(str(name).lower(), list(BACKBONES), n=3, cutoff=0.5)
    hint = f"Did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    raise GraphError(
        where,
        f"Unknown backbone {name!r}. Expected one of: {', '.join(BACKBONES)}. Received: name={name!r}",
        f"{hint}Run `cellwright weights list` to see every backbone.",
    )


def backbone_for_file(file_name: str) -> BackboneInfo | None:
    """The backbone whose ImageNet weights file is called ``file_name`` (None if none)."""
    for info in _ENTRIES:
        if info.weights_file == file_name:
            return info
    return None

"""Build a pretrained ``keras.applications`` encoder inside a functional model and return its skip taps.

Input range: the engine feeds normalised images, roughly 0..1 (percentile normalisation), with 1..N channels.
``build_encoder`` adds, inside the model, (1) the way those channels reach the 3 channels the backbone wants
(``repeat`` or a learned 1x1 ``project`` convolution) and (2) the family's own input scaling (e.g. -1..1 for
MobileNetV2, BGR minus the ImageNet mean for ResNet50/VGG16, 0..255 for models that rescale themselves), so a
saved or exported model takes the same 0..1 images and needs no external preprocessing step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder.backbones.catalog import BackboneInfo, get_backbone
from builder.errors import GraphError, WeightsError

CHANNEL_MODES = ("repeat", "project")


def _resolve_tap(model: Any, spec: str) -> Any:
    """Layer named ``spec``, or for ``"name+"`` the single layer that consumes that layer's output."""
    layer = model.get_layer(spec.rstrip("+"))
    if not spec.endswith("+"):
        return layer
    target = layer.output
    consumers = [
        other for other in model.layers
        if any(t is target for t in (other.input if isinstance(other.input, list) else [other.input]))
    ]
    if len(consumers) != 1:
        raise RuntimeError(f"Tap {spec!r}: expected one layer after {layer.name!r}, found {len(consumers)}.")
    return consumers[0]


def tap_layer_names(model: Any, info: BackboneInfo) -> dict[int, str]:
    """Actual layer names of the taps of a built backbone (``+`` markers resolved)."""
    return {stride: _resolve_tap(model, spec).name for stride, spec in sorted(info.taps.items())}


def _fix_efficientnet_normalization(model: Any) -> None:
    """Make EfficientNet's stem Normalization match Keras's ImageNet graph after loading weights from a file.

    With ``weights="imagenet"`` Keras inserts ``Rescaling(1/sqrt(IMAGENET_STDDEV))`` after the Normalization
    layer (the published weights hold the std, not the variance). Loading the same file into a graph built
    with ``weights=None`` lacks that layer; multiplying the stored variance by the std gives the identical
    result: (x - m) / sqrt(v * s) == (x - m) / sqrt(v) / sqrt(s).
    """
    import numpy as np

    from builder.backbones.layers import IMAGENET_STD_RGB

    norm = next(layer for layer in model.layers if type(layer).__name__ == "Normalization")
    norm.adapt_variance.assign(np.asarray(norm.adapt_variance.numpy()) * np.asarray(IMAGENET_STD_RGB))
    norm.finalize_state()


def _load(model: Any, path: Path, info: BackboneInfo, weights: str) -> None:
    from builder.backbones.weights import check_weights_file

    if path.suffix == ".h5" and not path.name.endswith(".weights.h5"):
        check_weights_file(path, info)
    try:
        model.load_weights(str(path))
    except Exception as error:  # shape mismatch, wrong layer count: the file is for another model
        raise WeightsError(
            f"weights: {weights}",
            f"The file {path} does not fit backbone {info.name!r} ({type(error).__name__}: {error}).",
            f"Use the no-top ImageNet weights of {info.constructor} ({info.weights_file}), or `weights: none`.",
        ) from error
    if info.fix_normalization:
        _fix_efficientnet_normalization(model)


def build_encoder(
    name: str,
    inputs: Any,
    *,
    weights: str = "imagenet",
    channel_mode: str = "repeat",
    name_prefix: str = "backbone",
    base_dir: Path | None = None,
) -> dict[int, Any]:
    """Apply a pretrained encoder to ``inputs`` and return its feature maps keyed by stride.

    Parameters
    ----------
    name : str
        Backbone name from :data:`builder.backbones.catalog.BACKBONES` (``mobilenet_v2``; ``MobileNetV2`` works).
    inputs : KerasTensor, shape (B, H, W, C)
        Normalised images (~0..1), any number of channels C (known statically). H and W may be None.
    weights : str
        ``"imagenet"`` (Keras cache, downloaded through Keras if missing), ``"none"`` (random init) or a path
        to a weights file (``.h5``; relative paths are taken from ``base_dir``).
    channel_mode : str
        ``"repeat"``: 1 channel is tiled to 3, other counts than 3 are averaged then repeated; no weights.
        ``"project"``: a learned 1x1 convolution C -> 3 named ``f"{name_prefix}_project"``, initialised to the
        same mapping as ``repeat`` (identity for 3 channels).
    name_prefix : str
        Name of the nested ``keras.Model`` holding the backbone (freeze policies find it by this name);
        the adapter layers are ``f"{name_prefix}_input"`` and ``f"{name_prefix}_project"``.
    base_dir : Path, optional
        Folder that relative weight paths are resolved against (the recipe's folder).

    Returns
    -------
    dict[int, KerasTensor]
        Feature maps keyed by stride (2, 4, 8, 16, 32 where the family has them; ConvNeXt starts at 4).

    Raises
    ------
    GraphError
        Unknown backbone, bad channel mode, or an input smaller than the family allows.
    WeightsError
        Weights missing and not downloadable, or a file that does not fit the backbone.
    """
    import keras
    import numpy as np

    from builder.backbones.layers import BackboneInput
    from builder.backbones.weights import resolve_weights

    info = get_backbone(name, where=f"{name_prefix}.name")
    if channel_mode not in CHANNEL_MODES:
        raise GraphError(f"{name_prefix}.channel_mode",
                         f"Expected 'repeat' or 'project'. Received: channel_mode={channel_mode!r}",
                         "Use 'repeat' (no extra weights) or 'project' (a learned 1x1 convolution).")
    _, height, width, channels = tuple(inputs.shape)
    if channels is None:
        raise GraphError(name_prefix, "The number of input channels must be known to attach a backbone.",
                         "Give the input block a channel count.")
    for label, size in (("height", height), ("width", width)):
        if size is not None and size < info.min_size:
            raise GraphError(name_prefix, f"Backbone {info.name} needs inputs of at least {info.min_size} px; "
                             f"Received: {label}={size}.", f"Use patches of {info.min_size} px or more.")
    path = resolve_weights(info.name, str(weights), base_dir=base_dir)

    x = inputs
    if channel_mode == "project":
        project = keras.layers.Conv2D(3, 1, name=f"{name_prefix}_project",
                                      kernel_initializer=keras.initializers.Constant(1.0 / channels))
        x = project(x)
        if channels == 3:
            project.set_weights([np.eye(3, dtype="float32").reshape(1, 1, 3, 3), np.zeros(3, "float32")])
    x = BackboneInput(in_channels=3 if channel_mode == "project" else int(channels),
                      channel_mode="identity" if channel_mode == "project" else "repeat",
                      preprocessing=info.preprocessing, backbone=name_prefix, backbone_name=info.name,
                      name=f"{name_prefix}_input")(x)

    constructor = getattr(keras.applications, info.constructor)
    shape = (height, width, 3) if height is not None and width is not None else (None, None, 3)
    base = constructor(include_top=False, weights=None, input_shape=shape, **info.kwargs)
    if path is not None:
        _load(base, path, info, str(weights))
    taps = {stride: _resolve_tap(base, spec) for stride, spec in sorted(info.taps.items())}
    encoder = keras.Model(base.inputs, [layer.output for layer in taps.values()], name=name_prefix)
    outputs = encoder(x)
    return dict(zip(taps, outputs, strict=True))

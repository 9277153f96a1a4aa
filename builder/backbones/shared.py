"""A colleague's shared model as a pretrained encoder (``backbone: {from: path/to/bundle.zip}``).

The encoder is cut from the shared network: walking its layers in topological order, each layer output gets
its stride relative to the model input; the deepest stride marks the bottleneck, and for every stride 2, 4, 8,
16, 32 the tap is the last layer on the bottleneck's path (its ancestors) with that stride, so no decoder layer
is reused. The taps are wrapped in a nested ``keras.Model`` named after the node, fed through a
:class:`~builder.backbones.shared_input.SharedBackboneInput` marker, so freeze policies work unchanged.

Static facts (input channels, strides) come from the model's Keras configuration read with ``zipfile`` and
``json`` only (bundle ``.zip`` -> ``model.keras`` -> ``config.json``, a ``.keras`` file, or the ``model_config``
attribute of a legacy Keras ``.h5`` full model read with ``h5py``): no TensorFlow.
Only when the configuration holds a layer whose effect on the image size cannot be read from its config
(e.g. ``Resizing``), or for a bioimage.io package, is the model loaded with Keras to measure it.
Nothing here imports TensorFlow at module import time.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from builder.errors import GraphError

STRIDES = (2, 4, 8, 16, 32)

_DOWN = {"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D"}
_UP = {"Conv2DTranspose": "strides", "UpSampling2D": "size"}
_NOT_IMAGE = {"GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Dense", "Reshape"}
_SIZE_KEYS = ("strides", "size", "pool_size", "height", "width", "target_shape", "cropping")

Measure = Callable[[str], "Fraction | None"]  # layer name -> factor by which it shrinks the image (None: no image)


class UnknownStrideError(Exception):
    """A layer whose effect on the image size cannot be read from its configuration."""


@dataclass(frozen=True)
class SharedFacts:
    """What the graph needs to know about a shared model: input channels and size, and its encoder taps."""

    path: Path
    in_channels: int
    input_size: tuple[int | None, int | None]
    taps: dict[int, tuple[str, int]]  # stride -> (top-level layer name, output index)

    @property
    def strides(self) -> tuple[int, ...]:
        return tuple(sorted(self.taps))


def resolve_shared_path(value: str, base_dir: Path | str | None, where: str = "backbone.from") -> Path:
    """The shared model file named by ``from:``; relative paths start at the recipe folder (``base_dir``)."""
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.exists():
        raise GraphError(where, f"The shared model {path} does not exist. Received: from={value!r}",
                         "Give the path of a bundle .zip written by 'cellwright export' (relative paths start at "
                         "the recipe's folder).")
    return path


# -- reading the configuration without TensorFlow --------------------------------------------------------------
def _model_config(path: Path) -> dict[str, Any] | None:
    """The Keras configuration of a bundle (zip or folder), a ``.keras`` or ``.h5`` file; None for other kinds."""
    from builder.model_files.safe_import import check_zip_entries

    def from_keras(handle: Any, where: str) -> dict[str, Any]:
        with zipfile.ZipFile(handle) as archive:
            check_zip_entries(archive, where)
            return json.loads(archive.read("config.json"))

    try:
        if path.is_dir():
            inner = path / "model.keras"
            return from_keras(inner, str(inner)) if inner.is_file() else None
        if path.suffix == ".keras":
            return from_keras(path, str(path))
        if path.suffix in (".h5", ".hdf5"):  # legacy Keras HDF5 full model: the config is an HDF5 attribute
            from builder.model_files.safe_import import read_keras_config

            return read_keras_config(path)
        with zipfile.ZipFile(path) as outer:
            check_zip_entries(outer, str(path))
            if "model.keras" not in outer.namelist():
                return None
            with outer.open("model.keras") as member:
                return from_keras(io.BytesIO(member.read()), f"{path}:model.keras")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError) as error:
        raise GraphError("backbone.from", f"Cannot read the shared model {path}: {error}",
                         "Give a bundle .zip written by 'cellwright export', a .keras file, or a whole model "
                         "saved by Keras as .h5.") from error


def _pair(value: Any) -> int:
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def _factor(layer: dict[str, Any]) -> Fraction | None:
    """How much one layer shrinks the image (``None``: its output is not an image)."""
    cls, config = layer.get("class_name"), layer.get("config") or {}
    if cls in _NOT_IMAGE:
        return None
    if cls in _DOWN:
        step = config.get("strides") or config.get("pool_size") or 1
        return Fraction(_pair(step))
    if cls in _UP:
        return Fraction(1, _pair(config.get(_UP[cls]) or 1))
    if any(config.get(key) is not None for key in _SIZE_KEYS):
        raise UnknownStrideError(f"{layer.get('name')} ({cls})")
    return Fraction(1)


def _parents(layer: dict[str, Any]) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "__keras_tensor__":
                name, _, index = node["config"]["keras_history"]
                found.append((name, int(index)))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(layer.get("inbound_nodes") or [])
    return found


def _output_names(config: dict[str, Any]) -> list[str]:
    outputs = config.get("output_layers") or []
    if outputs and isinstance(outputs[0], str):  # a single [name, node, index] triple
        outputs = [outputs]
    return [str(o[0]) for o in outputs]


def _functional_strides(config: dict[str, Any], measure: Measure | None, outer: bool) -> dict[tuple[str, int], Any]:
    """Stride (Fraction, or None for non-images) of every layer output of a functional model's config."""
    strides: dict[tuple[str, int], Any] = {}
    for layer in config["layers"]:
        name, cls = layer["name"], layer.get("class_name")
        parents = _parents(layer)
        base = strides.get(parents[0]) if parents else Fraction(1)
        if cls in ("Functional", "Sequential", "Model") and "layers" in (layer.get("config") or {}):
            inner = layer["config"]
            if cls == "Sequential":
                inner = _sequential_as_functional(inner)
            inner_strides = _functional_strides(inner, None, outer=False)
            for index, out in enumerate(_output_names(inner)):
                value = inner_strides.get((out, 0))
                strides[(name, index)] = None if value is None or base is None else base * value
            continue
        if cls == "InputLayer":
            strides[(name, 0)] = Fraction(1)
            continue
        try:
            factor = _factor(layer)
        except UnknownStrideError:
            if measure is None or not outer:
                raise
            factor = measure(name)
        strides[(name, 0)] = None if factor is None or base is None else base * factor
    return strides


def _sequential_as_functional(config: dict[str, Any]) -> dict[str, Any]:
    layers: list[dict[str, Any]] = []
    previous = None
    for layer in config["layers"]:
        link: list[dict[str, Any]] = [] if previous is None else [{"args": [{"class_name": "__keras_tensor__",
                                                        "config": {"keras_history": [previous, 0, 0]}}]}]
        layers.append({**layer, "name": layer.get("config", {}).get("name"), "inbound_nodes": link})
        previous = layers[-1]["name"]
    return {"layers": layers, "output_layers": [[previous, 0, 0]]}


def select_taps(config: dict[str, Any], measure: Measure | None = None, where: str = "backbone.from") -> SharedFacts:
    """Input channels and encoder taps of a functional model's Keras configuration (``config.json``)."""
    if config.get("class_name") == "Sequential":
        body = _sequential_as_functional(config["config"])
    elif "layers" in (config.get("config") or {}):
        body = config["config"]
    else:
        raise GraphError(where, f"The shared model is a {config.get('class_name')!r}, not a functional network.",
                         "Share a model built by Cellwright or with the Keras functional API.")
    inputs = [layer for layer in body["layers"] if layer.get("class_name") == "InputLayer"]
    if len(inputs) != 1:
        raise GraphError(where, f"The shared model has {len(inputs)} inputs; a backbone needs exactly one.",
                         "Use a single-input model.")
    shape = inputs[0]["config"].get("batch_shape") or inputs[0]["config"].get("batch_input_shape")
    strides = _functional_strides(body, measure, outer=True)
    images = {key: value for key, value in strides.items() if value is not None}
    deepest = max(images.values(), default=Fraction(1))
    if deepest < 2:
        raise GraphError(where, "The shared model never reduces the image size, so it has no encoder to reuse.",
                         "Share an encoder-decoder (e.g. a U-Net) or a classifier with pooling.")
    layers = {layer["name"]: layer for layer in body["layers"]}
    order = [key for key in strides]  # topological: Keras stores layers in creation order
    bottleneck = [key for key in order if images.get(key) == deepest][-1]
    ancestors, stack = {bottleneck}, [bottleneck]
    while stack:
        for parent in _parents(layers[stack.pop()[0]]):
            if parent not in ancestors:
                ancestors.add(parent)
                stack.append(parent)
    taps: dict[int, tuple[str, int]] = {}
    for key in order:
        value = images.get(key)
        if key in ancestors and value is not None and value.denominator == 1 and int(value) in STRIDES:
            taps[int(value)] = key
    return SharedFacts(Path(), int(shape[-1]), (shape[1], shape[2]), taps)


# -- public entry points ---------------------------------------------------------------------------------------
_CACHE: dict[tuple[str, int, int], SharedFacts] = {}


def shared_facts(path: Path, where: str = "backbone.from") -> SharedFacts:
    """Channels, size and encoder taps of the shared model at ``path`` (cached per file version).

    Reads the Keras configuration with ``zipfile``/``json`` only; loads the model with Keras (TensorFlow) only
    for bioimage.io packages or layers whose effect on the image size is not in their configuration.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        config = _model_config(path)
        try:
            if config is None:
                raise UnknownStrideError("not a Cellwright bundle or .keras file")
            facts = select_taps(config, where=where)
        except UnknownStrideError:
            from builder.model_files.reuse import load_shared_model

            model = load_shared_model(path, run_test=False)
            facts = select_taps({"class_name": "Functional", "config": model.get_config()},
                                measure=_measurer(model), where=where)
        _CACHE[key] = SharedFacts(path, facts.in_channels, facts.input_size, facts.taps)
    return _CACHE[key]


def _measurer(model: Any) -> Measure:
    def measure(name: str) -> Fraction | None:
        layer = model.get_layer(name)
        shape = tuple(layer.input.shape)
        if len(shape) != 4:
            return None
        probe = (1, 64 if shape[1] is None else shape[1], 64 if shape[2] is None else shape[2], shape[3])
        out = tuple(layer.compute_output_shape(probe))
        return None if len(out) != 4 else Fraction(probe[1], out[1])

    return measure


def adapt_channels(inputs: Any, want: int, channel_mode: str, name_prefix: str) -> Any:
    """Bring ``inputs`` (B,H,W,C) to the shared model's ``want`` channels, or raise when ``match`` is asked."""
    import keras
    import numpy as np

    from builder.backbones.shared_input import SharedBackboneInput

    have = int(inputs.shape[-1])
    if have != want and channel_mode == "match":
        raise channel_error(name_prefix, have, want)
    x = inputs
    if have != want and channel_mode == "project":
        kernel = np.full((1, 1, have, want), 1.0 / have, "float32")
        if have == 1:
            kernel[:] = 1.0
        x = keras.layers.Conv2D(want, 1, name=f"{name_prefix}_project",
                                kernel_initializer=keras.initializers.Constant(kernel))(x)
        have = want
    return SharedBackboneInput(in_channels=have, out_channels=want, backbone=name_prefix,
                               name=f"{name_prefix}_input")(x)


def channel_error(node: str, have: int, want: int) -> GraphError:
    return GraphError(
        f"node '{node}' (backbone from)",
        f"The shared model takes {want}-channel images but this recipe gives {have} channel(s).",
        f"Use images with the same {want} channels (data.channels), or set `channel_mode: repeat` (copy/average "
        "the channels) or `channel_mode: project` (a learned 1x1 convolution) in the backbone.",
    )


def _outer_output(model: Any, layer_name: str, index: int) -> Any:
    """Output ``index`` of layer ``layer_name`` as called inside ``model`` (a nested model's ``.output`` is its
    own inner tensor, not the one in the outer graph)."""
    layer = model.get_layer(layer_name)
    for node in (n for nodes in getattr(model, "_nodes_by_depth", {}).values() for n in nodes):
        if node.operation is layer:
            return node.output_tensors[index]
    out = layer.output
    return out[index] if isinstance(out, (list, tuple)) else out


def build_shared_encoder(path: Path, inputs: Any, *, channel_mode: str = "match",
                         name_prefix: str = "backbone") -> dict[int, Any]:
    """Apply the encoder part of the shared model at ``path`` to ``inputs``; feature maps keyed by stride.

    The model is opened with :func:`builder.model_files.reuse.load_shared_model` (checksums, zip-slip checks, safe
    mode, no Lambda layers) and its weights are kept. Raises :class:`GraphError` for a channel mismatch
    with ``channel_mode="match"`` and :class:`builder.errors.ExportError` for an unsafe or damaged file.
    """
    import keras

    from builder.model_files.reuse import load_shared_model

    shared = load_shared_model(Path(path))
    facts = select_taps({"class_name": "Functional", "config": shared.get_config()}, measure=_measurer(shared),
                        where=f"node '{name_prefix}' (backbone from)")
    x = adapt_channels(inputs, facts.in_channels, channel_mode, name_prefix)
    outputs = [_outer_output(shared, layer_name, index) for layer_name, index in facts.taps.values()]
    encoder = keras.Model(shared.inputs, outputs, name=name_prefix)
    features = encoder(x)
    features = features if isinstance(features, (list, tuple)) else [features]
    return dict(zip(facts.taps, features, strict=True))

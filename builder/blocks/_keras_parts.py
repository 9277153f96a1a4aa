"""Keras helpers shared by composite blocks (imported only while a model is built).

Composite blocks are nested functional ``keras.Model`` objects named after their node: they are made of
standard Keras layers only, so a saved ``.keras`` file loads with plain ``keras.saving.load_model`` in any
Python that has Keras, without Cellwright and without custom objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras


def nested(node_id: str, tensors: list[Any], fn: Callable[..., Any]) -> Any:
    """Build ``fn(*inputs)`` as a sub-model named ``node_id`` and apply it to ``tensors``."""
    inputs = []
    for i, tensor in enumerate(tensors):
        shape = (None, None, tensor.shape[-1]) if len(tensor.shape) == 4 else tuple(tensor.shape[1:])
        inputs.append(keras.Input(shape=shape, name=f"{node_id}_in{i}"))
    outputs = fn(*inputs)
    model = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=node_id)
    return model(tensors[0] if len(tensors) == 1 else list(tensors))


def apply_layers(node_id: str, tensor: Any, specs: list[tuple[Any, dict]]) -> Any:
    """Apply a chain of ``(layer class, kwargs)``: one layer is named ``node_id``; several become a sub-model."""
    if len(specs) == 1:
        cls, kwargs = specs[0]
        return cls(**{**kwargs, "name": node_id})(tensor)

    def chain(x: Any) -> Any:
        for cls, kwargs in specs:
            x = cls(**kwargs)(x)
        return x

    return nested(node_id, [tensor], chain)


BATCH_NORM_MOMENTUM = 0.9


def norm_layer(kind: str, groups: int, name: str) -> Any:
    """A normalisation layer of ``kind`` (batch, group, layer), or ``None`` for none."""
    if kind == "batch":
        # Momentum 0.9 (Keras: 0.99): with the few hundred steps of a small microscopy data set the moving
        # statistics must settle quickly, or inference-mode outputs collapse while training looks fine.
        return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=name)
    if kind == "group":
        return keras.layers.GroupNormalization(groups=groups, name=name)
    if kind == "layer":
        return keras.layers.LayerNormalization(name=name)
    return None


def conv_stack(x: Any, p: Any, residual: bool, prefix: str = "") -> Any:
    """``n_convs`` x (conv -> norm -> activation), optional residual shortcut and dropout."""
    L = keras.layers
    shortcut = x
    Conv = L.SeparableConv2D if p.separable else L.Conv2D
    for i in range(1, p.n_convs + 1):
        x = Conv(p.filters, p.kernel_size, padding="same", use_bias=p.norm == "none", name=f"{prefix}conv{i}")(x)
        norm = norm_layer(p.norm, p.groups, f"{prefix}norm{i}")
        if norm is not None:
            x = norm(x)
        if residual and i == p.n_convs:
            if shortcut.shape[-1] != p.filters:
                shortcut = L.Conv2D(p.filters, 1, padding="same", name=f"{prefix}shortcut")(shortcut)
            x = L.Add(name=f"{prefix}add")([x, shortcut])
        x = L.Activation(p.activation, name=f"{prefix}act{i}")(x)
    if p.dropout > 0:
        x = L.SpatialDropout2D(p.dropout, name=f"{prefix}dropout")(x)
    return x


def squeeze_excite(x: Any, ratio: float, prefix: str = "") -> Any:
    L = keras.layers
    channels = x.shape[-1]
    s = L.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze")(x)
    s = L.Dense(max(1, int(channels * ratio)), activation="relu", name=f"{prefix}reduce")(s)
    s = L.Dense(channels, activation="sigmoid", name=f"{prefix}expand")(s)
    return L.Multiply(name=f"{prefix}scale")([x, s])


def attention_gate(skip: Any, gating: Any, inter: int) -> Any:
    """Additive attention (Oktay et al. 2018): weights ``skip`` by a map computed from skip and gating."""
    L = keras.layers
    theta = L.Conv2D(inter, 1, name="theta_skip")(skip)
    phi = L.Conv2D(inter, 1, name="phi_gating")(gating)
    f = L.Activation("relu", name="relu")(L.Add(name="add")([theta, phi]))
    psi = L.Conv2D(1, 1, activation="sigmoid", name="psi")(f)
    return L.Multiply(name="gate")([skip, psi])

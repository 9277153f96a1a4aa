"""How far a network looks around each pixel, so tiled prediction can overlap its tiles by exactly enough.

The receptive field is estimated from the convolution, pooling and up-sampling layers in layer order (nested
models and composite layers included): each ``k``-wide kernel adds ``(k - 1) * dilation`` input pixels at the
current stride, strides multiply it and up-sampling divides it. For a U-Net that is the path through every level,
its largest receptive field. Global pooling (which sees the whole image) is left out of the field, but it and
group normalisation (statistics over the whole image) make the network *non-local*: no overlap makes tiles equal
the whole image for such a network (:class:`NetworkReach`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, (tuple, list)) else value)


def _leaf_layers(layer: Any) -> Iterator[Any]:
    children = list(getattr(layer, "layers", None) or getattr(layer, "_layers", None) or [])
    if not children:
        yield layer
        return
    for child in children:
        yield from _leaf_layers(child)


#: Layers whose output at a pixel depends on the whole image (statistics or pooling over all pixels).
NON_LOCAL_LAYERS = ("GroupNormalization", "Global")


@dataclass(frozen=True)
class NetworkReach:
    """What tiled prediction needs to know about a network.

    Attributes
    ----------
    field : int
        Receptive field in input pixels along one axis (see :func:`receptive_field`).
    local : bool
        False when a layer looks at the whole image (group normalisation, global pooling): tiles then cannot
        equal whole-image prediction, whatever the overlap.
    bytes_per_pixel : float
        Rough memory of the activations per input pixel (float32, every layer's output kept): how large an image
        fits in one network call.
    """

    field: int
    local: bool
    bytes_per_pixel: float

    @property
    def radius(self) -> int:
        """Pixels next to a tile edge whose output differs from whole-image prediction (one extra for the
        pooling grid)."""
        return self.field // 2 + 1


#: Attribute of a network that is not a Keras graph (an ONNX copy, see :mod:`builder.workflow.onnx_network`) holding
#: the :class:`NetworkReach` measured on its Keras graph when it was written.
RECORDED_REACH_ATTR = "cellwright_reach"


def network_reach(model: Any) -> NetworkReach:
    """Receptive field, locality and activation memory of ``model``, following its graph.

    A network that carries a recorded reach (:data:`RECORDED_REACH_ATTR`) gives that instead.

    Each tensor carries ``(field, jump)``: where branches merge (concatenation, addition) a pixel sees the union of
    what its inputs saw, so the field is the largest; a nested model (a backbone) is followed through its own graph;
    a composite layer without a graph is walked layer by layer.
    """
    recorded = getattr(model, RECORDED_REACH_ATTR, None)
    if isinstance(recorded, NetworkReach):
        return recorded
    walk = _Walk()
    outputs = walk.model(model, [(1.0, 1.0)] * max(1, len(getattr(model, "inputs", None) or [None])))
    field = max(f for f, _ in outputs) if outputs else walk.field
    return NetworkReach(int(math.ceil(field)), walk.local, 4.0 * max(walk.floats, 1.0))


class _Walk:
    """State of one :func:`network_reach` walk: the largest field, locality and summed activations."""

    def __init__(self) -> None:
        self.field, self.local, self.floats = 1.0, True, 0.0

    def model(self, model: Any, inputs: list[tuple[float, float]]) -> list[tuple[float, float]]:
        operations = getattr(model, "operations", None)
        graph_inputs = getattr(model, "inputs", None)
        if not operations or not graph_inputs:
            return [self.leaves(model, _merge(inputs))]
        state = {id(t): fj for t, fj in zip(graph_inputs, inputs, strict=False)}
        for op in operations:
            for node in getattr(op, "_inbound_nodes", []):
                ins = [state.get(id(t)) for t in node.input_tensors]
                if not ins or any(v is None for v in ins) or getattr(node, "operation", op) is not op:
                    continue
                outs = self.operation(op, [v for v in ins if v is not None])
                for t, fj in zip(node.output_tensors, outs * len(node.output_tensors), strict=False):
                    state[id(t)] = fj
                    self.floats += _tensor_channels(t) / (fj[1] * fj[1])
        return [state[id(t)] for t in model.outputs if id(t) in state] or [(self.field, 1.0)]

    def operation(self, op: Any, inputs: list[tuple[float, float]]) -> list[tuple[float, float]]:
        name = type(op).__name__
        if name.startswith(NON_LOCAL_LAYERS):
            self.local = False
        if getattr(op, "operations", None) and getattr(op, "inputs", None):
            return self.model(op, inputs)
        return [self.leaves(op, _merge(inputs))]

    def leaves(self, layer: Any, start: tuple[float, float]) -> tuple[float, float]:
        field, jump = start
        for leaf in _leaf_layers(layer):
            name = type(leaf).__name__
            if name.startswith(NON_LOCAL_LAYERS):
                self.local = False
                if name.startswith("Global"):
                    continue
            field, jump = _step(leaf, name, field, jump)
        self.field = max(self.field, field)
        return field, jump


def _merge(inputs: list[tuple[float, float]]) -> tuple[float, float]:
    """Where branches meet: the largest field, at the finest step."""
    return max(f for f, _ in inputs), min(j for _, j in inputs)


def _tensor_channels(tensor: Any) -> int:
    try:
        return int(tensor.shape[-1] or 1)
    except (TypeError, IndexError, AttributeError):
        return 1


def _step(layer: Any, name: str, field: float, jump: float) -> tuple[float, float]:
    """``(field, jump)`` after one layer."""
    if hasattr(layer, "kernel_size") and hasattr(layer, "strides"):
        kernel, stride = _first(layer.kernel_size), _first(layer.strides)
        dilation = _first(getattr(layer, "dilation_rate", 1))
        if "Transpose" in name:
            jump /= stride
            field += (kernel - 1) * jump
        else:
            field += (kernel - 1) * dilation * jump
            jump *= stride
    elif hasattr(layer, "pool_size"):
        pool = _first(layer.pool_size)
        stride = _first(layer.strides) if getattr(layer, "strides", None) else pool
        field += (pool - 1) * jump
        jump *= stride
    elif name.startswith("UpSampling"):
        jump /= _first(layer.size)
    return field, jump


def receptive_field(model: Any) -> int:
    """Receptive field of ``model`` in input pixels along one axis (1 for a network of 1x1 layers).

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    int
    """
    field, jump = 1.0, 1.0
    for layer in _leaf_layers(model):
        name = type(layer).__name__
        if not name.startswith("Global"):
            field, jump = _step(layer, name, field, jump)
    return int(math.ceil(field))

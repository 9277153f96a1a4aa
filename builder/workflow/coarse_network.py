"""Networks whose last layer repeats each output pixel (the U-Net's ``grid: 2``), run without that repeat.

A U-Net with ``grid: 2`` works at half resolution and ends with a nearest-neighbour repeat that brings its output
to the input's size (training compares it with full-resolution targets). Prediction of star-convex polygons
suppresses and draws from the output before the repeat (:class:`~builder.tasks.zoomed_output.CoarseOutput`),
which is the same numbers, a quarter as many: on a 648 x 848 image the repeat and the copies of its 33 x 4 times
larger output took about a third of the ONNX Runtime call.

Keras models give the network without its repeat with :func:`coarse_keras_model`; a run's ONNX copy is written
from it (:mod:`builder.workflow.onnx_cache`) and records the repeat as ``output_grid``.
"""

from __future__ import annotations

import weakref
from typing import Any

#: The name of the U-Net's last layer when ``grid`` > 1 (:func:`builder.templates.unet.grid_nodes`).
OUTPUT_GRID_LAYER = "output_grid"
#: Record key of a run's ONNX copy: the repeat its graph leaves out (absent: 1, nothing left out).
RECORD_OUTPUT_GRID = "output_grid"

_COARSE: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def repeat_layer(model: Any) -> Any:
    """The Keras layer that ends ``model`` by repeating each pixel along Y and X (a nearest-neighbour
    ``UpSampling2D`` named :data:`OUTPUT_GRID_LAYER` with equal sizes > 1 whose output is the model's only
    output), or None."""
    try:
        layer = model.get_layer(OUTPUT_GRID_LAYER)
    except (AttributeError, ValueError):
        return None
    size = tuple(getattr(layer, "size", ()) or ())
    if (type(layer).__name__ != "UpSampling2D" or getattr(layer, "interpolation", None) != "nearest"
            or len(size) != 2 or size[0] != size[1] or int(size[0]) < 2):
        return None
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) != 1 or outputs[0] is not layer.output:
        return None
    return layer


def output_repeat(model: Any) -> int:
    """How many times (along Y and along X) ``model``'s last layer repeats each output pixel: 1 for most
    networks. An ONNX network (:class:`~builder.workflow.onnx_network.OnnxNetwork`) says what its record says;
    its graph already leaves the repeat out."""
    recorded = getattr(model, "output_grid", None)
    if isinstance(recorded, int):
        return recorded
    layer = repeat_layer(model)
    return 1 if layer is None else int(layer.size[0])


def coarse_keras_model(model: Any) -> Any:
    """``model`` without its final repeat (:func:`repeat_layer`): a Keras model sharing its layers and weights,
    made once per model; ``model`` itself when it has no such layer."""
    layer = repeat_layer(model)
    if layer is None:
        return model
    coarse = _COARSE.get(model)
    if coarse is None:
        import keras

        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs  # the structure the model takes
        coarse = keras.Model(inputs, layer.input, name=f"{model.name}_coarse")
        _COARSE[model] = coarse
    return coarse

"""How far a network looks around each pixel, so tiled prediction can warn when tiles overlap too little.

The receptive field is estimated from the convolution, pooling and up-sampling layers in layer order (nested
models and composite layers included): each ``k``-wide kernel adds ``(k - 1) * dilation`` input pixels at the
current stride, strides multiply it and up-sampling divides it. For a U-Net that is the path through every level,
its largest receptive field. Global pooling (which sees the whole image) is left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from builder.recipe import Recipe


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, (tuple, list)) else value)


def _leaf_layers(layer: Any) -> Iterator[Any]:
    children = list(getattr(layer, "layers", None) or getattr(layer, "_layers", None) or [])
    if not children:
        yield layer
        return
    for child in children:
        yield from _leaf_layers(child)


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
        if name.startswith("Global"):
            continue
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
    return int(math.ceil(field))


def overlap_warning(model: Any, recipe: Recipe) -> dict[str, str] | None:
    """A warning (``where``, ``what``, ``fix``) when ``preprocess.tile.overlap`` is below the receptive field."""
    from builder.tasks import get_task
    from builder.workflow.inference import tiling

    if not get_task(recipe.task).pixel_output:
        return None
    field = receptive_field(model)
    tile, overlap, _ = tiling(model, (1 << 30, 1 << 30), recipe)
    if overlap >= field:
        return None
    return {"where": "preprocess.tile.overlap",
            "what": f"Tiles overlap by {overlap} px but the network sees {field} px around each pixel (its receptive "
                    "field); results of large images may show seams at tile edges.",
            "fix": f"Set preprocess.tile.overlap to at least {field} px (with preprocess.tile.size above "
                   f"{2 * field} px) in the run's recipe.yaml."}

"""How an image is cut into tiles for the network: one call when it fits in memory, else tiles that overlap by
the network's receptive field, so that tiled prediction equals whole-image prediction.

One plan serves both prediction paths (:func:`builder.workflow.inference.network_output` in memory and
:func:`builder.workflow.stream_predict.output_bands` band by band); both run
:func:`builder.data.patches.iter_tiled_bands` with it.
"""

from __future__ import annotations

import contextlib
import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from builder.errors import DataError
from builder.workflow.receptive_field import NetworkReach, network_reach

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: Largest estimated activation memory (bytes) of one network call (the estimate keeps every layer's output, so
#: the real peak is well below it).
WHOLE_IMAGE_BYTES = 4e9
#: Most images stacked into one network call (more gains nothing on a CPU and delays the first result).
MAX_IMAGES_PER_CALL = 8
#: Pixels of smooth blending between two tiles, besides the receptive-field margins.
BLEND_RAMP = 8

_REACH: weakref.WeakKeyDictionary[Any, NetworkReach] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class TilePlan:
    """Tiles for one image.

    Attributes
    ----------
    tile : (int, int)
        Tile sides (Y, X), multiples of ``align``; the aligned image size when ``whole``.
    overlap : int
        Overlap of neighbouring tiles.
    margin : float or None
        Pixels ignored at inner tile edges (the receptive-field radius); None: a quarter of the overlap.
    align : int
        Tile starts and sides are multiples of this (the network's down-sampling factor).
    whole : bool
        The whole image goes through the network in one call.
    exact : bool
        Tiles give the same output as one whole-image call (a local network with a known receptive field).
    """

    tile: tuple[int, int]
    overlap: int
    margin: float | None
    align: int
    whole: bool
    exact: bool


def reach_of(model: Any) -> NetworkReach:
    """:func:`network_reach` of ``model``, computed once per model."""
    try:
        return _REACH[model]
    except (KeyError, TypeError):
        reach = network_reach(model)
        with contextlib.suppress(TypeError):
            _REACH[model] = reach
        return reach


def _fixed_input_size(model: Any) -> tuple[int, int] | None:
    shape = tuple(model.inputs[0].shape)
    if len(shape) == 4 and shape[1] is not None and shape[2] is not None:
        return int(shape[1]), int(shape[2])
    return None


def _round_up(n: int, factor: int) -> int:
    return -(-int(n) // factor) * factor


def plan_tiles(model: Any, shape: tuple[int, int], recipe: Recipe, *, factor: int) -> TilePlan:
    """The :class:`TilePlan` for an image of ``shape`` (Y, X) on the network's grid.

    Parameters
    ----------
    model : keras.Model
    shape : (int, int)
    recipe : Recipe
        ``preprocess.tile``: ``whole_image`` (one call when the estimated activations fit in
        :data:`WHOLE_IMAGE_BYTES`; larger images in tiles as large as that memory allows), ``size`` (the least tile
        side; the tile side itself when ``whole_image`` is false) and ``overlap`` (the least overlap; widened to the
        receptive field).
    factor : int
        The size multiple the network needs (its down-sampling factor).
    """
    cfg = recipe.preprocess.tile
    fixed = _fixed_input_size(model)
    if fixed is not None:
        if fixed[0] != fixed[1]:
            raise DataError("model input", f"The model takes only {fixed[0]}x{fixed[1]} px inputs; tiled "
                            "prediction needs square tiles.", "Build the model with a square (or free) input size.")
        return TilePlan(fixed, min(cfg.overlap, fixed[0] // 2), None, 1, False, False)
    reach = reach_of(model)
    padded = (_round_up(shape[0], factor), _round_up(shape[1], factor))
    if cfg.whole_image and padded[0] * padded[1] * reach.bytes_per_pixel <= WHOLE_IMAGE_BYTES:
        return TilePlan(padded, 0, None, factor, True, True)
    margin: float | None = None
    overlap = cfg.overlap
    if reach.local:
        margin = float(reach.radius)
        overlap = max(overlap, 2 * reach.radius + BLEND_RAMP)
    side = max(_round_up(cfg.size, factor), _round_up(3 * overlap, factor))  # at least a third of a tile is new
    if cfg.whole_image:  # memory allows larger tiles: fewer pixels computed twice
        side = max(side, int(math.sqrt(WHOLE_IMAGE_BYTES / reach.bytes_per_pixel)) // factor * factor)
    tile = (min(side, padded[0]), min(side, padded[1]))
    return TilePlan(tile, overlap, margin, factor, tile == padded, reach.local)


def memory_side(model: Any) -> int:
    """The side of the largest square image predicted in one call (for messages)."""
    return int(math.sqrt(WHOLE_IMAGE_BYTES / reach_of(model).bytes_per_pixel))


def images_in_memory(model: Any, plan: TilePlan) -> int:
    """How many images of ``plan``'s (whole-image) tile one network call may take within :data:`WHOLE_IMAGE_BYTES`
    (the same activation estimate that chose whole-image prediction), between 1 and :data:`MAX_IMAGES_PER_CALL`."""
    per_image = plan.tile[0] * plan.tile[1] * reach_of(model).bytes_per_pixel
    return max(1, min(MAX_IMAGES_PER_CALL, int(WHOLE_IMAGE_BYTES // max(per_image, 1))))

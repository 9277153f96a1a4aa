"""Object scale: how large the objects are in pixels, and the factor that brings them to the network's size.

``preprocess.object_diameter`` (a number in pixels, or ``auto``: the median equivalent diameter of the objects in
the training masks) and ``preprocess.target_diameter`` set the factor ``target / diameter`` by which every image is
rescaled before the network sees it, the way Cellpose's *diameter* does; no pixel size in µm is needed. A run
records the diameter it used (``normalization.json``, key ``scale``), so ``predict`` and ``evaluate`` rescale new
images the same way, or by the new images' own diameter (``cellwright predict --diameter``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.errors import DataError

if TYPE_CHECKING:
    from builder.data.layouts import Sample
    from builder.recipe import Recipe
    from builder.recipe.sections.preprocess import PreprocessSection

#: Most training masks read to measure the object diameter.
MAX_MASKS = 200


def object_diameters(mask: np.ndarray, *, instances: bool = True) -> np.ndarray:
    """Equivalent diameters ``2 * sqrt(area / pi)`` (px) of the objects of one mask.

    Parameters
    ----------
    mask : (Y, X) or (Y, X, 1) int array
        Instance labels, or a binary / class mask (its connected foreground regions are the objects).
    instances : bool
        The mask holds instance labels (each positive value one object).
    """
    m = np.asarray(mask)
    m = m[..., 0] if m.ndim == 3 else m
    if not instances or int(m.max(initial=0)) <= 1:
        from skimage.measure import label

        m = label(m > 0)
    areas = np.bincount(m.ravel().astype(np.int64))[1:]
    areas = areas[areas > 0]
    return 2.0 * np.sqrt(areas / np.pi)


def measure_diameter(samples: Sequence[Sample], recipe: Recipe) -> float:
    """Median object diameter (px, in the images' own pixels) over the masks of ``samples``.

    Raises
    ------
    DataError
        No masks, or no objects in them.
    """
    from builder.data.readers import read_image

    masks = [s.mask_path for s in samples if s.mask_path][:MAX_MASKS]
    if not masks:
        raise DataError("preprocess.object_diameter", "is 'auto', which measures the objects in the training "
                        "masks, but the training images have no masks.",
                        "Give the object diameter in pixels (e.g. object_diameter: 30), or remove it.")
    instances = recipe.data.mask_kind in ("auto", "instances")
    found = np.concatenate([object_diameters(read_image(p).array, instances=instances) for p in masks])
    if found.size == 0:
        raise DataError("preprocess.object_diameter", f"is 'auto' but the {len(masks)} training masks contain no "
                        "objects.", "Check the masks in Fiji, or give the object diameter in pixels.")
    return float(np.median(found))


def training_diameter(pre: PreprocessSection, normalization: Any = None) -> float | None:
    """The object diameter (px) the network was trained at: the recipe's number, else the one the run measured."""
    value = pre.object_diameter
    if value is None:
        return None
    if value != "auto":
        return float(value)
    scale = normalization.get("scale") if isinstance(normalization, Mapping) else None
    if isinstance(scale, Mapping) and scale.get("object_diameter"):
        return float(scale["object_diameter"])
    raise DataError("preprocess.object_diameter", "is 'auto' but the run did not record the diameter it measured "
                    "(normalization.json has no 'scale').",
                    "Write the diameter in pixels into the run's recipe.yaml (preprocess.object_diameter), or "
                    "train the model again.")


def scale_record(recipe: Recipe, diameter: float, *, measured: bool) -> dict[str, Any]:
    """The ``scale`` entry of ``normalization.json``."""
    target = float(recipe.preprocess.target_diameter)
    return {"object_diameter": round(float(diameter), 3), "target_diameter": target,
            "factor": round(target / float(diameter), 6),
            "measured_from": "training masks (median)" if measured else "recipe"}


def with_diameter(recipe: Recipe, diameter: float) -> Recipe:
    """A copy of ``recipe`` whose ``preprocess.object_diameter`` is the number ``diameter``."""
    pre = recipe.preprocess.model_copy(update={"object_diameter": float(diameter)})
    return recipe.model_copy(update={"preprocess": pre})


def resolve_for_training(recipe: Recipe, train: Sequence[Sample]) -> tuple[Recipe, dict[str, Any] | None]:
    """``(recipe with a numeric diameter, scale record)`` for training; ``(recipe, None)`` without object scale."""
    value = recipe.preprocess.object_diameter
    if value is None:
        return recipe, None
    measured = value == "auto"
    diameter = measure_diameter(train, recipe) if measured else float(value)
    return with_diameter(recipe, diameter), scale_record(recipe, diameter, measured=measured)

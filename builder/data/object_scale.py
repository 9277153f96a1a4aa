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
#: Fewest objects clear of the image edge for ``auto`` to measure those alone (else it measures every object).
MIN_WHOLE_OBJECTS = 5
#: ``measured_from`` of a scale record whose diameter came from the objects clear of the image edge.
WHOLE_OBJECTS = "training masks (median of the objects clear of the image edge)"


def object_diameters(mask: np.ndarray, *, instances: bool = True, whole_only: bool = False) -> np.ndarray:
    """Equivalent diameters ``2 * sqrt(area / pi)`` (px) of the objects of one mask.

    Parameters
    ----------
    mask : (Y, X) or (Y, X, 1) int array
        Instance labels, or a binary / class mask (its connected foreground regions are the objects).
    instances : bool
        The mask holds instance labels (each positive value one object).
    whole_only : bool
        Leave out the objects that touch the image edge: they are cut, so they look smaller than they are
        (training images are often crops or tiles of larger images).
    """
    m = np.asarray(mask)
    m = m[..., 0] if m.ndim == 3 else m
    if not instances or int(m.max(initial=0)) <= 1:
        from skimage.measure import label

        m = label(m > 0)
    m = m.astype(np.int64, copy=False)
    areas = np.bincount(m.ravel())
    keep = areas > 0
    keep[0] = False
    if whole_only:
        keep[np.concatenate([m[0], m[-1], m[:, 0], m[:, -1]])] = False
    return 2.0 * np.sqrt(areas[keep] / np.pi)


def measure_diameter(samples: Sequence[Sample], recipe: Recipe) -> tuple[float, bool]:
    """``(median object diameter, whole)`` (px, in the images' own pixels) over the masks of ``samples``;
    ``whole``: only the objects clear of the image edge were measured (see :func:`choose_diameters`).

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
    arrays = [read_image(p).array for p in masks]
    every = np.concatenate([object_diameters(m, instances=instances) for m in arrays])
    clear = np.concatenate([object_diameters(m, instances=instances, whole_only=True) for m in arrays])
    found, whole = choose_diameters(every, clear)
    if found.size == 0:
        raise DataError("preprocess.object_diameter", f"is 'auto' but the {len(masks)} training masks contain no "
                        "objects.", "Check the masks in Fiji, or give the object diameter in pixels.")
    return float(np.median(found)), whole


def choose_diameters(every: np.ndarray, clear: np.ndarray) -> tuple[np.ndarray, bool]:
    """The diameters ``auto`` takes the median of: ``clear`` (the objects clear of the image edge; cut objects look
    smaller) when there are at least :data:`MIN_WHOLE_OBJECTS` of them, else ``every`` object; and which it took
    (True: ``clear``)."""
    if clear.size >= MIN_WHOLE_OBJECTS:
        return clear, True
    return every, False


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


def scale_record(recipe: Recipe, diameter: float, *, measured: bool, whole: bool = False) -> dict[str, Any]:
    """The ``scale`` entry of ``normalization.json`` (``whole``: measured on the objects clear of the image edge)."""
    target = float(recipe.preprocess.target_diameter)
    how = (WHOLE_OBJECTS if whole else "training masks (median)") if measured else "recipe"
    return {"object_diameter": round(float(diameter), 3), "target_diameter": target,
            "factor": round(target / float(diameter), 6), "measured_from": how}


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
    diameter, whole = measure_diameter(train, recipe) if measured else (float(value), False)
    return with_diameter(recipe, diameter), scale_record(recipe, diameter, measured=measured, whole=whole)

"""The raw test image a run keeps for its exports: one validation image as the microscope gives it.

Exported packages (BioImage Model Zoo above all) store their test input *raw* and declare the normalisation
as preprocessing steps; a consumer normalises the raw image itself. So the image saved here is read and
resampled like training data, but not normalised, and it is whole (not a patch): per-image percentiles of the
whole image are what training used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from builder.export.test_tensors import crop_to_multiple

if TYPE_CHECKING:
    from builder.data.layouts import Sample
    from builder.recipe import Recipe


def raw_test_image(recipe: Recipe, samples: list[Sample], model_input: tuple[int | None, int | None],
                   multiple: int) -> np.ndarray | None:
    """One raw image (``1,Y,X,C`` float32) for a network taking ``model_input`` (Y, X; None for any size), or None.

    Read like training data (resampled; resized to a fixed input), not normalised. Tries ``samples`` in order
    and keeps the first readable one.
    """
    from builder.data.pipeline import load_split
    from builder.errors import CellwrightError

    y, x = model_input
    size = (int(y), int(x)) if y is not None and x is not None else None
    for sample in samples:
        try:
            loaded = load_split([sample], recipe.data, recipe.preprocess, size=size, skipped=[])
        except CellwrightError:  # an unreadable image: try the next one
            continue
        if not loaded.images:
            continue
        image = loaded.images[0] if size is not None else crop_to_multiple(loaded.images[0], multiple)
        return np.asarray(image, np.float32)[None]
    return None

"""The raw test image a run keeps for its exports: one validation image as the microscope gives it.

Exported packages (BioImage Model Zoo above all) store their test input *raw* and declare the normalisation
as preprocessing steps; a consumer normalises the raw image itself. So the image saved here is read and
resampled like training data, but not normalised, and it is whole (not a patch): per-image percentiles of the
whole image are what training used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from builder.export.test_tensors import crop_to_multiple


def raw_test_image(recipe: Any, samples: list[Any], model_input: tuple[Any, ...], multiple: int) -> np.ndarray | None:
    """One raw image (``1,Y,X,C`` float32) fit for ``model_input`` (``Y, X, C``; None for any size), or None.

    Tries ``samples`` in order and keeps the first readable one.
    """
    from builder.data.pipeline import _fit, load_split
    from builder.errors import CellwrightError

    for sample in samples:
        try:
            loaded = load_split(recipe, [sample], skipped=[])
        except CellwrightError:  # an unreadable image: try the next one
            continue
        if not loaded.images:
            continue
        image = loaded.images[0]
        y, x = model_input[0], model_input[1]
        if y is not None and x is not None:
            image = _fit(image, int(y)) if int(y) == int(x) else image[:int(y), :int(x)]
        else:
            image = crop_to_multiple(image, multiple)
        return np.asarray(image, np.float32)[None]
    return None

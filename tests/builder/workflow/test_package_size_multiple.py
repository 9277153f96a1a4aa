"""A model from a package declares its size multiple; prediction pads to it, and says so when it is not known."""

from __future__ import annotations

import numpy as np
import pytest

from builder.errors import DataError


def _net_needing_16():
    """Down-samples by 16 and concatenates the skip path: other sizes raise a Concat error in TensorFlow."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((None, None, 1))
    skip = keras.layers.Conv2D(2, 3, padding="same")(inp)
    x = keras.layers.UpSampling2D(16)(keras.layers.MaxPooling2D(16)(skip))
    out = keras.layers.Conv2D(2, 1, activation="softmax")(keras.layers.Concatenate()([x, skip]))
    return keras.Model(inp, out)


def _recipe():
    from builder.recipe import recipe_from_dict
    from builder.tasks import DEFAULT_TASK, get_task

    # a package's prediction recipe: the default template (down-sampling 8), not the network's 16
    return recipe_from_dict({"name": "pkg", "task": DEFAULT_TASK, "data": get_task(DEFAULT_TASK).new_recipe_data(".")})


def test_declared_size_multiple_is_used_and_an_unknown_one_is_a_clear_error():
    from builder.workflow.inference import SIZE_MULTIPLE_ATTR, predict_image

    model, recipe = _net_needing_16(), _recipe()
    image = np.random.default_rng(0).random((40, 40)).astype(np.float32)
    with pytest.raises(DataError, match="cannot run on 40x40 px tiles") as info:
        predict_image(model, image, recipe)
    assert "multiple" in info.value.fix
    setattr(model, SIZE_MULTIPLE_ATTR, 16)
    result = predict_image(model, image, recipe)
    assert result["output"].shape == (40, 40, 2)

"""A colleague's bundle becomes the pretrained start of a new model and can be fine-tuned."""

from __future__ import annotations

import numpy as np
import pytest

from builder.errors import ExportError


def test_fine_tune_from_bundle(seg_bundle):
    import keras

    from builder.model_files.reuse import load_shared_model

    shared = load_shared_model(seg_bundle)
    assert shared.trainable
    # use it as a pretrained network under a new head, as a recipe's backbone: {from: bundle.zip} would
    inp = keras.Input((None, None, 2))
    features = shared(inp)
    out = keras.layers.Conv2D(1, 1, activation="sigmoid", name="new_head")(features)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    before = [w.copy() for w in shared.get_weights()]
    x = np.random.default_rng(0).random((2, 16, 16, 2)).astype(np.float32)
    y = (x[..., :1] > 0.5).astype(np.float32)
    model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, shared.get_weights(), strict=True))


def test_missing_shared_model_names_the_recipe_key(tmp_path):
    from builder.model_files.reuse import load_shared_model

    with pytest.raises(ExportError, match="backbone.from"):
        load_shared_model(tmp_path / "nope.zip")

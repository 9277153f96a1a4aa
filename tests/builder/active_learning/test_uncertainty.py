"""Uncertainty measures and the "annotate next" ranking, on real tiny Keras models with constructed weights."""

from __future__ import annotations

import numpy as np
import pytest

from builder.active_learning.ranking import as_probabilities, rank_outputs
from builder.active_learning.uncertainty import disagreement, entropy, margin, tta_outputs, uncertainty
from builder.errors import CellwrightError


def test_entropy_and_margin_bounds():
    sure, tie = np.array([1.0, 0.0, 0.0]), np.full(3, 1 / 3)
    assert entropy(sure) == pytest.approx(0.0, abs=1e-9) and entropy(tie) == pytest.approx(1.0)
    assert margin(np.array([0.9, 0.1])) == pytest.approx(0.2) and margin(np.array([0.5, 0.5])) == pytest.approx(1.0)
    assert disagreement([sure, sure]) == pytest.approx(0.0)
    assert disagreement([np.array([1.0, 0.0]), np.array([0.0, 1.0])]) == pytest.approx(0.5)


def test_uncertainty_rejects_what_is_not_probabilities():
    with pytest.raises(ValueError, match="Expected \\(K,\\) or \\(Y, X, K\\)"):
        uncertainty([np.ones((4, 4))])
    with pytest.raises(CellwrightError, match="Expected class probabilities"):
        as_probabilities(np.array([3.0, -2.0]))
    assert as_probabilities(np.full((2, 2, 1), 0.25))[0, 0].tolist() == [0.75, 0.25]


def _brightness_classifier(size: int = 8):
    """p(class 1) = sigmoid(20 * (mean intensity - 0.5)): sure for dark or bright images, unsure near 0.5."""
    import keras

    inputs = keras.Input((size, size, 1))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(pooled)
    model = keras.Model(inputs, outputs)
    model.layers[-1].set_weights([np.array([[-10.0, 10.0]], np.float32), np.array([5.0, -5.0], np.float32)])
    return model


def _left_right_classifier(size: int = 8):
    """Logit difference = 4 * (sum of the left half - sum of the right half): flipping the image flips the answer."""
    import keras

    weights = np.zeros((size * size, 2), np.float32)
    sign = np.where(np.arange(size) < size // 2, 1.0, -1.0)
    weights[:, 1] = np.tile(sign, size) * 2.0
    weights[:, 0] = -weights[:, 1]
    inputs = keras.Input((size, size, 1))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.layers[-1].set_weights([weights, np.zeros(2, np.float32)])
    return model


def _views(model, images, tta=True):
    def predict(a):
        return model.predict_on_batch(a[None].astype(np.float32))[0]

    return [tta_outputs(predict, x, pixel_output=False, views=4 if tta else 1) for x in images]


def test_ranking_puts_the_images_the_model_is_unsure_about_first():
    model = _brightness_classifier()
    levels = [0.05, 0.95, 0.52, 0.3, 0.47, 0.8]  # 0.52 and 0.47 are near the decision boundary
    images = [np.full((8, 8, 1), v, np.float32) for v in levels]
    rows = rank_outputs([f"img{v}" for v in levels], _views(model, images))
    assert [r["image"] for r in rows[:2]] == ["img0.52", "img0.47"]
    assert {r["image"] for r in rows[-2:]} == {"img0.05", "img0.95"}
    assert [r["rank"] for r in rows] == list(range(1, 7))


def test_tta_disagreement_finds_what_plain_confidence_misses():
    """The model is sure about a left-bright image, but its flipped copy gets the opposite answer."""
    model = _left_right_classifier()
    lopsided = np.zeros((8, 8, 1), np.float32)
    lopsided[:, :4] = 1.0
    uniform_dark = np.zeros((8, 8, 1), np.float32)
    slight = np.zeros((8, 8, 1), np.float32)
    slight[:, :4] = 0.02  # a little unsure, and the same under every flip
    images, names = [lopsided, uniform_dark, slight], ["lopsided", "dark", "slight"]
    plain = rank_outputs(names, _views(model, images, tta=False))
    assert plain[-1]["image"] == "lopsided"  # one view: looks the most confident
    with_tta = rank_outputs(names, _views(model, images))
    assert with_tta[0]["image"] == "lopsided" and with_tta[0]["tta"] > 0.3


def test_pixel_outputs_are_turned_back_before_comparing():
    """A pixel classifier that is equivariant to flips shows no TTA disagreement."""
    import keras

    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Conv2D(2, 1, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)
    model.layers[-1].set_weights([np.array([[[[-6.0, 6.0]]]], np.float32), np.array([3.0, -3.0], np.float32)])
    x = np.random.default_rng(0).random((8, 8, 1)).astype(np.float32)
    views = tta_outputs(lambda a: model.predict_on_batch(a[None])[0], x, pixel_output=True)
    assert len(views) == 4
    assert uncertainty(views)["tta"] == pytest.approx(0.0, abs=1e-6)
    assert uncertainty(views, top_fraction=0.1)["entropy"] >= uncertainty(views)["entropy"]


def test_regions_rank_the_unsure_part_of_an_image_first():
    import keras

    from builder.active_learning.ranking import regions

    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1, activation="softmax")(inputs))
    model.layers[-1].set_weights([np.array([[[[-10.0, 10.0]]]], np.float32), np.array([5.0, -5.0], np.float32)])
    x = np.zeros((16, 24, 1), np.float32)
    x[:, 12:] = 1.0
    x[8:, 16:24] = 0.5  # the model cannot tell foreground from background here
    views = tta_outputs(lambda a: model.predict_on_batch(a[None])[0], x, pixel_output=True)
    cuts = regions(views, 8)
    assert [(y, xx) for y, xx, _ in cuts] == [(0, 0), (0, 8), (0, 16), (8, 0), (8, 8), (8, 16)]
    rows = rank_outputs([f"{y},{xx}" for y, xx, _ in cuts], [c for _, _, c in cuts])
    assert rows[0]["image"] == "8,16" and rows[0]["entropy"] > 0.9 and rows[-1]["entropy"] < 0.05
    assert [(y, xx) for y, xx, _ in regions([np.zeros((20, 20, 2))], 8)] == [
        (0, 0), (0, 8), (0, 12), (8, 0), (8, 8), (8, 12), (12, 0), (12, 8), (12, 12)]

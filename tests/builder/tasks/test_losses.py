import math

import numpy as np
import pytest

from builder.errors import CellwrightError
from builder.tasks.losses import make_loss, resolve_loss

keras = pytest.importorskip("keras")

Y2 = np.array([0, 1])
P2 = np.array([[0.8, 0.2], [0.4, 0.6]], np.float32)
LN8, LN6 = -math.log(0.8), -math.log(0.6)  # 0.2231, 0.5108


def _value(loss, y_true, y_pred):
    return float(keras.ops.convert_to_numpy(loss(y_true, y_pred)))


def test_cross_entropy_class_weights_and_smoothing():
    ce = make_loss("classification", "cross_entropy", 2)
    assert _value(ce, Y2, P2) == pytest.approx((LN8 + LN6) / 2, rel=1e-5)
    ref = keras.losses.SparseCategoricalCrossentropy()(Y2, P2)
    assert _value(ce, Y2, P2) == pytest.approx(float(ref), rel=1e-5)
    # weight 3 on class 1: (1 * 0.2231 + 3 * 0.5108) / 2
    weighted = make_loss("classification", "cross_entropy", 2, class_weights=[1.0, 3.0])
    assert _value(weighted, Y2, P2) == pytest.approx((LN8 + 3 * LN6) / 2, rel=1e-5)
    # smoothing 0.2 over 2 classes: targets [0.9, 0.1] and [0.1, 0.9]
    smooth = make_loss("classification", "cross_entropy", 2, label_smoothing=0.2)
    expected = (-(0.9 * math.log(0.8) + 0.1 * math.log(0.2)) - (0.1 * math.log(0.4) + 0.9 * math.log(0.6))) / 2
    assert _value(smooth, Y2, P2) == pytest.approx(expected, rel=1e-5)
    ref = keras.losses.CategoricalCrossentropy(label_smoothing=0.2)(np.eye(2)[Y2], P2)
    assert _value(smooth, np.eye(2, dtype=np.float32)[Y2], P2) == pytest.approx(float(ref), rel=1e-5)
    # a 2-class sigmoid head (probability of class 1) gives the same value
    assert _value(ce, Y2[:, None], P2[:, 1:]) == pytest.approx((LN8 + LN6) / 2, rel=1e-5)


def test_focal_loss():
    focal = make_loss("classification", "focal", 2)
    # gamma 2: (0.2^2 * 0.2231 + 0.4^2 * 0.5108) / 2
    assert _value(focal, Y2, P2) == pytest.approx((0.04 * LN8 + 0.16 * LN6) / 2, rel=1e-5)


def test_dice_and_combination_on_pixels():
    y = np.array([[[0, 1]]])  # (1, 1, 2): one image of 1 x 2 pixels
    p = np.array([[[[0.9, 0.1], [0.2, 0.8]]]], np.float32)  # (1, 1, 2, 2)
    dice = make_loss("segmentation", "dice", 2)
    # class 0: (2*0.9 + 1) / (1 + 1.1 + 1); class 1: (2*0.8 + 1) / (1 + 0.9 + 1)
    expected = 1 - (2.8 / 3.1 + 2.6 / 2.9) / 2
    assert _value(dice, y, p) == pytest.approx(expected, rel=1e-5)
    assert _value(dice, y[..., None], p) == pytest.approx(expected, rel=1e-5)  # (B, Y, X, 1) indices
    both = make_loss("segmentation", "auto", 2)
    ce = (-math.log(0.9) - math.log(0.8)) / 2
    assert _value(both, y, p) == pytest.approx(ce + expected, rel=1e-5)
    assert both.name == "cross_entropy_dice"


def test_regression_and_blind_spot_losses():
    t = np.array([[[[1.0], [2.0]], [[3.0], [4.0]]]], np.float32)  # (1, 2, 2, 1)
    zero = np.zeros_like(t)
    assert _value(make_loss("image_to_image", "mae"), t, zero) == pytest.approx(2.5)
    assert _value(make_loss("image_to_image", "mse"), t, zero) == pytest.approx(7.5)  # (1+4+9+16)/4
    mask = np.array([[[[1.0], [0.0]], [[0.0], [1.0]]]], np.float32)
    y_true = np.concatenate([t, mask], -1)
    n2v = make_loss("image_to_image", "auto", self_supervised=True)
    assert n2v.name == "masked_mse" and _value(n2v, y_true, zero) == pytest.approx((1 + 16) / 2)
    assert _value(make_loss("image_to_image", "mae", self_supervised=True), y_true, zero) == pytest.approx(2.5)
    img = np.random.default_rng(0).random((2, 16, 16, 1)).astype(np.float32)
    ssim_mae = make_loss("image_to_image", "ssim+mae")
    assert _value(ssim_mae, img, img) == pytest.approx(0.0, abs=1e-5)
    assert _value(ssim_mae, img, img[::-1]) > 0.5
    dist = make_loss("instance_segmentation", "auto", instance_target="distance")
    assert dist.name == "mse"


def test_mixed_precision_outputs_are_scored_in_float32():
    ce = make_loss("segmentation", "cross_entropy+dice", 3, class_weights=[0.5, 1.0, 2.0])
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, (2, 8, 8, 1))
    p = rng.random((2, 8, 8, 3)).astype(np.float32)
    p /= p.sum(-1, keepdims=True)
    v16 = ce(y, keras.ops.cast(p, "float16"))
    assert keras.backend.standardize_dtype(v16.dtype) == "float32"
    assert float(v16) == pytest.approx(_value(ce, y, p), rel=1e-2)


# Keras restores a mixed-precision (loss-scale) optimizer into a plain one and warns; not about the loss.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_training_step_and_saving_with_the_loss(tmp_path):
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        inputs = keras.Input((8, 8, 1))
        outputs = keras.layers.Conv2D(3, 1, activation="softmax")(inputs)
        model = keras.Model(inputs, outputs)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert model.layers[-1].compute_dtype == "float16"
    model.compile(optimizer="adam", loss=make_loss("instance_segmentation", "auto"))
    x = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, (2, 8, 8, 1)).astype(np.float32)
    history = model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.loss.get_config() == model.loss.get_config()
    assert float(loaded.evaluate(x, y, verbose=0)) == pytest.approx(float(model.evaluate(x, y, verbose=0)), rel=1e-5)


def test_loss_choice_is_checked_against_the_task():
    assert resolve_loss("segmentation") == "cross_entropy+dice"
    assert resolve_loss("image_to_image") == "mae"
    with pytest.raises(CellwrightError, match=r"train.loss.*'dice' does not fit the task classification"):
        resolve_loss("classification", "dice")
    with pytest.raises(CellwrightError, match="Received: loss=cross_entropy"):
        resolve_loss("instance_segmentation", "cross_entropy", instance_target="distance")
    assert resolve_loss("tracking") == "cross_entropy+dice"  # tracking segments frames like instances
    with pytest.raises(CellwrightError, match="3 weights"):
        make_loss("segmentation", "cross_entropy", 3, class_weights=[1.0, 2.0])

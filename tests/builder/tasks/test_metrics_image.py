import numpy as np
import pytest
from scipy.stats import pearsonr
from skimage.metrics import normalized_root_mse, peak_signal_noise_ratio, structural_similarity

from builder.tasks.metrics.image import image_metrics, nrmse, pearson, psnr, ssim


def test_psnr_hand_computed():
    target = np.linspace(0, 1, 64).reshape(8, 8)
    # an error of 0.1 everywhere: MSE 0.01, range 1 -> 10 log10(1 / 0.01) = 20 dB
    assert psnr(target, target + 0.1) == pytest.approx(20.0)
    assert psnr(target, target + 0.1, data_range=2.0) == pytest.approx(20.0 + 20 * np.log10(2))
    assert psnr(target, target) == float("inf")


def test_against_scikit_image():
    rng = np.random.default_rng(1)
    target = rng.random((32, 40, 2))
    pred = target + 0.2 * rng.normal(size=target.shape)
    assert psnr(target, pred, data_range=1.0) == pytest.approx(peak_signal_noise_ratio(target, pred, data_range=1.0))
    ref = structural_similarity(target, pred, data_range=1.0, channel_axis=-1)
    assert ssim(target, pred, data_range=1.0) == pytest.approx(ref)
    assert nrmse(target, pred) == pytest.approx(normalized_root_mse(target, pred))
    assert pearson(target, pred) == pytest.approx(pearsonr(target.ravel(), pred.ravel())[0])


def test_input_comparison_shows_the_gain():
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:32, :32]
    target = np.sin(xx / 5.0) * np.cos(yy / 7.0)
    noisy = 3.0 * target + 10 + rng.normal(0, 1.0, target.shape)  # other intensity scale, noisy
    restored = target + rng.normal(0, 0.05, target.shape)
    m = image_metrics([target], [restored], [noisy])
    for k in ("psnr", "ssim", "pearson"):
        assert m[k] > m[f"input_{k}"]
        assert m[f"gain_{k}"] == pytest.approx(m[k] - m[f"input_{k}"])
    assert m["nrmse"] < m["input_nrmse"]
    # the affine fit puts the input on the target's scale first: its Pearson r is unchanged by it
    assert m["input_pearson"] == pytest.approx(pearson(target, noisy))
    # label-free: input with other channels than the target is not compared
    m2 = image_metrics([target[..., None]], [restored[..., None]], [np.stack([noisy, noisy], -1)])
    assert m2["input_psnr"] is None and m2["psnr"] == pytest.approx(m["psnr"])

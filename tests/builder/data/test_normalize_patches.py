"""Normalisation, random patches with foreground oversampling, and tiled prediction equivalence."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.normalize import compute_stats, normalize, resample
from builder.data.patches import blend_window, predict_tiled, random_patches
from builder.errors import DataError


def test_percentile_per_channel_and_dataset_stats():
    rng = np.random.default_rng(0)
    image = np.stack([rng.random((40, 40)) * 100, rng.random((40, 40)) * 10 + 1000], axis=-1)
    out = normalize(image, "percentile", low=1, high=99)
    for c in range(2):
        assert np.percentile(out[..., c], 1) == pytest.approx(0, abs=1e-5)
        assert np.percentile(out[..., c], 99) == pytest.approx(1, abs=1e-5)
    z = normalize(image, "zscore")
    assert np.allclose(z.mean(axis=(0, 1)), 0, atol=1e-4) and np.allclose(z.std(axis=(0, 1)), 1, atol=1e-3)
    shared = normalize(image, "minmax", per_channel=False)
    assert shared.min() == pytest.approx(0) and shared.max() == pytest.approx(1)
    assert normalize(image.astype(np.uint16), "fixed", fixed_max=2000).max() <= 0.55
    stats = compute_stats([image[:20], image[20:] * 2], "minmax")
    assert stats.offset.shape == (2,) and stats.scale[1] == pytest.approx(image[20:, :, 1].max() * 2
                                                                           - image[:20, :, 1].min(), rel=1e-5)
    flat = normalize(np.full((8, 8, 1), 7.0), "zscore")
    assert np.all(np.isfinite(flat))


def test_resample_to_pixel_size():
    image = np.zeros((40, 40, 1), np.float32)
    assert resample(image, 0.5, 1.0).shape == (20, 20, 1)
    labels = np.arange(16, dtype=np.int32).reshape(4, 4, 1)
    up = resample(labels, 1.0, 0.5, order=0)
    assert up.shape == (8, 8, 1) and set(np.unique(up)) <= set(range(16))
    with pytest.raises(DataError, match="pixel size is unknown"):
        resample(image, None, 1.0)


def test_random_patches_oversample_foreground():
    image = np.zeros((200, 200, 1), np.float32)
    mask = np.zeros((200, 200, 1), np.int32)
    mask[150:160, 20:30] = 1
    _, plain = random_patches(image, mask, 32, 200, seed=0, foreground_fraction=0.0)
    _, rich = random_patches(image, mask, 32, 200, seed=0, foreground_fraction=0.8)
    hit = lambda m: np.mean([p.any() for p in m])  # noqa: E731
    assert hit(rich) > 0.7 > 0.2 > hit(plain)
    small, small_mask = random_patches(np.ones((10, 12, 1)), np.ones((10, 12, 1), np.int32), 16, 2)
    assert small.shape == (2, 16, 16, 1) and small_mask[0, 12:, :].sum() == 0  # masks padded with background


def test_blend_windows_sum_to_one():
    w = blend_window(64, 16)
    assert w[0] == 0 and w[32] == 1
    left, right = blend_window(64, 16, first=True), blend_window(64, 16, last=True)
    overlap = left[-16:] + right[:16]
    assert np.allclose(overlap, 1.0)


def test_predict_tiled_matches_whole_image_with_a_real_conv_net():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.UpSampling2D(2)(x)
    outputs = keras.layers.Conv2D(3, 3, padding="same")(x)
    model = keras.Model(inputs, outputs)
    image = np.random.default_rng(0).random((70, 90, 2)).astype(np.float32)
    whole = model.predict(np.pad(image, [(0, 2), (0, 2), (0, 0)], mode="reflect")[None], verbose=0)[0][:70, :90]
    tiled = predict_tiled(lambda b: model(b).numpy(), image, tile=32, overlap=24, align=2)
    assert tiled.shape == (70, 90, 3)
    border = 8
    diff = np.abs(tiled - whole)[border:-border, border:-border]
    assert diff.max() < 1e-4, diff.max()
    naive = predict_tiled(lambda b: model(b).numpy(), image, tile=32, overlap=0, align=2)
    assert np.abs(naive - whole)[border:-border, border:-border].max() > 1e-3  # without overlap: seams


@pytest.mark.parametrize(("shape", "size"), [
    ((648, 848, 1), (656, 848)),  # a few rows: mirrored
    ((30, 41, 2), (32, 48)),  # both axes, two channels
    ((5, 7), (16, 16)),  # padding as large as the image: the edge repeated
    ((16, 16, 1), (16, 16)),  # nothing to pad
])
def test_pad_whole_pads_like_the_tiles_of_iter_tiled_bands(shape, size):
    """pad_whole gives exactly the pixels iter_tiled_bands reads for a tile beyond the image (its index tables)."""
    from builder.data.patches import _pad_index, _pad_mode, pad_whole

    image = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    mode = _pad_mode(shape[:2], size)
    expected = image[_pad_index(shape[0], size[0], mode)[:, None], _pad_index(shape[1], size[1], mode)[None, :]]
    padded = pad_whole(image, size)
    assert padded.shape == (*size, *shape[2:])
    np.testing.assert_array_equal(padded, expected)


def test_a_one_tile_image_is_the_networks_output_cropped():
    from builder.data.patches import predict_tiled

    image = np.random.default_rng(1).normal(size=(30, 41, 1)).astype(np.float32)
    calls = []

    def network(batch):
        calls.append(batch.shape)
        return np.concatenate([batch * 2, batch + 1], axis=-1)

    out = predict_tiled(network, image, tile=(32, 48), overlap=8, align=16)
    assert calls == [(1, 32, 48, 1)]  # the whole image, padded, in one call
    assert out.shape == (30, 41, 2) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.concatenate([image * 2, image + 1], axis=-1))
    target = np.zeros((30, 41, 2), np.float32)
    assert predict_tiled(network, image, tile=(32, 48), overlap=8, align=16, out=target) is target
    np.testing.assert_array_equal(target, out)

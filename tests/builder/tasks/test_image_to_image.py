import numpy as np
import pytest

from builder.errors import DataError
from builder.tasks.image_to_image import make_n2v_map_fn, n2v_manipulate, n2v_target, split_n2v_target


def _check_blind_spots(patch, manipulated, mask, radius):
    """Unmasked pixels are untouched; each masked pixel holds the value of another pixel within ``radius``."""
    assert np.array_equal(manipulated[mask == 0], patch[mask == 0])
    h, w = patch.shape[:2]
    for y, x in zip(*np.nonzero(mask[..., 0]), strict=True):
        ys, xs = np.mgrid[max(y - radius, 0):min(y + radius + 1, h), max(x - radius, 0):min(x + radius + 1, w)]
        others = (ys != y) | (xs != x)
        candidates = patch[ys[others], xs[others]]
        assert (candidates == manipulated[y, x]).all(axis=-1).any(), (y, x)
        assert not np.array_equal(manipulated[y, x], patch[y, x])  # values are distinct random floats


def test_numpy_masking_replaces_the_right_pixels():
    rng = np.random.default_rng(0)
    patch = rng.random((64, 48, 2)).astype(np.float32)
    manipulated, mask = n2v_manipulate(patch, fraction=0.01, radius=2, rng=1)
    assert mask.shape == patch.shape and mask.sum() == 2 * round(0.01 * 64 * 48)
    assert np.array_equal(mask[..., 0], mask[..., 1])
    _check_blind_spots(patch, manipulated, mask, 2)
    target = n2v_target(patch, mask)
    original, m = split_n2v_target(target)
    assert target.shape == (64, 48, 4) and np.array_equal(original, patch) and np.array_equal(m, mask)


def test_numpy_masking_statistics():
    rng = np.random.default_rng(2)
    patch = np.arange(32 * 32, dtype=np.float32).reshape(32, 32, 1)  # value encodes position
    offsets = []
    for i in range(300):
        manipulated, mask = n2v_manipulate(patch, fraction=0.02, radius=2, rng=rng)
        assert mask.sum() == round(0.02 * 1024)
        ys, xs = np.nonzero(mask[..., 0])
        src = manipulated[ys, xs, 0].astype(int)
        offsets.append(np.stack([src // 32 - ys, src % 32 - xs], 1)[(ys > 1) & (ys < 30) & (xs > 1) & (xs < 30)])
        if i == 0:
            _check_blind_spots(patch, manipulated, mask, 2)
    off = np.concatenate(offsets)
    assert np.abs(off).max() <= 2 and not ((off[:, 0] == 0) & (off[:, 1] == 0)).any()
    # 24 possible offsets, roughly uniform (each ~1/24 = 4.2 %)
    _, counts = np.unique(off, axis=0, return_counts=True)
    assert len(counts) == 24 and counts.min() / counts.sum() > 0.025 and counts.max() / counts.sum() < 0.06
    with pytest.raises(DataError, match="fraction"):
        n2v_manipulate(patch, fraction=0.5)


def test_tensorflow_map_function_in_a_dataset():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    patches = rng.random((3, 32, 32, 1)).astype(np.float32)
    fn = make_n2v_map_fn(fraction=0.01, radius=3, seed=7)
    ds = tf.data.Dataset.from_tensor_slices(patches).map(fn)
    for patch, (manipulated, target) in zip(patches, ds.as_numpy_iterator(), strict=True):
        original, mask = split_n2v_target(target)
        assert np.array_equal(original, patch) and mask.sum() == round(0.01 * 32 * 32)
        _check_blind_spots(patch, manipulated, mask, 3)
    # the same seed gives the same masks
    runs = [[t for _, t in tf.data.Dataset.from_tensor_slices(patches).map(make_n2v_map_fn(seed=11))
             .as_numpy_iterator()] for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True))

"""Blind-spot masks keyed by patch position: a resumed (shifted) stream gets exactly the masks it would have had."""

from __future__ import annotations

import numpy as np
import pytest

from builder.tasks.image_to_image import make_n2v_map_fn, split_n2v_target
from tests.builder.tasks.test_image_to_image import _check_blind_spots

tf = pytest.importorskip("tensorflow")


def _masks(patches: np.ndarray, start: int) -> list[np.ndarray]:
    fn = make_n2v_map_fn(fraction=0.02, radius=2, seed=5)
    ds = tf.data.Dataset.from_tensor_slices(patches).enumerate(start=start)
    ds = ds.map(lambda i, x: fn(x, i), num_parallel_calls=4, deterministic=True)
    return [target for _, target in ds.as_numpy_iterator()]


def test_masks_depend_on_the_position_not_on_what_came_before():
    patches = np.random.default_rng(1).random((8, 24, 24, 1)).astype(np.float32)
    full = _masks(patches, 0)
    resumed = _masks(patches[5:], 5)  # a run resumed at patch 5
    for a, b in zip(full[5:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    masks = [split_n2v_target(t)[1] for t in full]
    assert not np.array_equal(masks[0], masks[1])  # positions differ, masks differ
    fn = make_n2v_map_fn(fraction=0.02, radius=2, seed=5)
    manipulated, target = fn(patches[0], tf.constant(0, tf.int64))
    _check_blind_spots(patches[0], manipulated.numpy(), split_n2v_target(target.numpy())[1], 2)

"""Masks for masked-image reconstruction hide the asked fraction of squares, never partial squares."""

from __future__ import annotations

import numpy as np
import pytest

from builder.pretrain.masking import apply_masks, patch_masks


def test_masks_hide_the_ratio_of_whole_squares():
    masks = patch_masks(5, (32, 32), patch=8, ratio=0.25, rng=np.random.default_rng(1))
    assert masks.shape == (5, 32, 32, 1)
    for mask in masks[..., 0]:
        squares = mask.reshape(4, 8, 4, 8).transpose(0, 2, 1, 3).reshape(16, 64)
        assert set(np.unique(squares.mean(axis=1))) <= {0.0, 1.0}  # a square is hidden whole or not at all
        assert squares.mean(axis=1).sum() == 4  # 25 % of 16 squares


def test_masks_differ_between_images():
    masks = patch_masks(2, (32, 32), patch=8, ratio=0.5, rng=np.random.default_rng(0))
    assert not np.array_equal(masks[0], masks[1])


def test_hidden_pixels_are_filled_and_shown_pixels_kept():
    images = np.random.default_rng(0).random((2, 16, 16, 3)).astype(np.float32)
    masks = patch_masks(2, (16, 16), patch=4, ratio=0.5, rng=np.random.default_rng(2))
    out = apply_masks(images, masks, fill=0.0)
    hidden = masks[..., 0] == 1
    assert np.all(out[hidden] == 0.0)
    np.testing.assert_array_equal(out[~hidden], images[~hidden])


def test_ratio_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match=r"`ratio` must be between 0 and 1.*Received: ratio=1.0"):
        patch_masks(1, (8, 8), ratio=1.0)

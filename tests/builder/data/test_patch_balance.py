"""``preprocess.patch.balance: objects``: foreground patches are centred on objects alike, so a small object (a cell
cut by the image edge) is trained on as often as a large one; ``pixels`` (the default) keeps the old sampling."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.patches import foreground_points, random_patches
from tests.builder.data.data_helpers import make_recipe, write_seg_pair


def _big_and_sliver(shape=(96, 96)) -> np.ndarray:
    """A 40x40 cell (label 1) and a 2x3 sliver touching the top edge (label 2): 1600 and 6 pixels."""
    mask = np.zeros(shape, np.int32)
    mask[40:80, 40:80] = 1
    mask[0:2, 10:13] = 2
    return mask


def _share_in(points: np.ndarray, mask: np.ndarray, label: int) -> float:
    return float(np.mean(mask[points[:, 0], points[:, 1]] == label))


def test_objects_balance_gives_each_object_the_same_share_of_centres():
    mask = _big_and_sliver()
    pixels = foreground_points(mask, max_points=2000, seed=3)
    objects = foreground_points(mask, max_points=2000, seed=3, balance="objects")
    assert _share_in(pixels, mask, 2) < 0.02  # 6 of 1606 pixels
    assert 0.45 < _share_in(objects, mask, 2) < 0.55
    assert (mask[objects[:, 0], objects[:, 1]] > 0).all()


def test_touching_objects_with_different_labels_count_as_two():
    mask = np.zeros((40, 40), np.int32)
    mask[5:35, 5:20] = 1  # 450 px
    mask[5:8, 20:23] = 2  # 9 px, touching label 1
    share = _share_in(foreground_points(mask, max_points=1000, seed=0, balance="objects"), mask, 2)
    assert 0.4 < share < 0.6


def test_empty_mask_gives_no_points():
    assert foreground_points(np.zeros((8, 8), np.int32), balance="objects").shape == (0, 2)


def test_random_patches_reach_the_sliver_more_often():
    mask = _big_and_sliver((160, 160))
    image = mask[..., None].astype(np.float32)

    def with_sliver(balance: str) -> int:
        _, masks = random_patches(image, mask[..., None], 32, 400, seed=1, foreground_fraction=1.0,
                                  balance=balance)
        assert masks is not None
        return int(sum((m == 2).any() for m in masks))

    assert with_sliver("objects") > 3 * max(1, with_sliver("pixels"))


def test_recipe_key_reaches_the_training_stream(tmp_path):
    pytest.importorskip("tensorflow")
    from builder.data.layouts import discover
    from builder.data.pipeline import make_training_datasets

    write_seg_pair(tmp_path, "img0", shape=(160, 160), mask=_big_and_sliver((160, 160)).astype(np.uint16))
    write_seg_pair(tmp_path, "img1", shape=(160, 160), mask=_big_and_sliver((160, 160)).astype(np.uint16))

    def sliver_patches(balance: str) -> int:
        recipe = make_recipe("instance_segmentation", data={"masks": "masks", "split": {"validation": 0, "test": 0}},
                             preprocess={"patch": {"size": 32, "per_image": 40, "foreground_fraction": 1.0,
                                                   "balance": balance}},
                             augment={"enabled": False})
        train, _, _ = make_training_datasets(recipe, discover(recipe, tmp_path), batch_size=8)
        count = 0  # the stream's targets are the label patches (the training target is made from them later)
        for _, y in train.take(10):
            count += int((np.asarray(y)[..., 0] == 2).any(axis=(1, 2)).sum())
        return count

    assert sliver_patches("objects") > 3 * max(1, sliver_patches("pixels"))

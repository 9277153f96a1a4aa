"""A resumed pipeline (``start_sample``) continues the training stream exactly, mid-pass included."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.builder.data.data_helpers import make_recipe, write_seg_folder

pytest.importorskip("tensorflow")


def _samples(recipe, root, n: int, start_sample: int = 0, batch_size: int = 1) -> list[tuple[np.ndarray, ...]]:
    from builder.data.layouts import discover
    from builder.data.pipeline import make_training_datasets

    train, _, _ = make_training_datasets(recipe, discover(recipe, root), batch_size=batch_size,
                                         start_sample=start_sample)
    return [tuple(np.asarray(part) for part in batch) for batch in train.take(n)]


@pytest.mark.parametrize("start", [5, 12, 20])  # mid-pass, exactly two passes, mid-third pass (6 per pass)
def test_patch_stream_continues_at_any_sample(tmp_path, start: int):
    write_seg_folder(tmp_path, 4)
    recipe = make_recipe("instance_segmentation", data={"masks": "masks", "split": {"validation": 0, "test": 0}},
                         preprocess={"patch": {"size": 16, "per_image": 2, "foreground_fraction": 0.5}},
                         augment={"rotate": 30, "gaussian_noise": 0.1})
    full = _samples(recipe, tmp_path, start + 7)
    resumed = _samples(recipe, tmp_path, 7, start_sample=start)
    for (x1, y1), (x2, y2) in zip(full[start:], resumed, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(full[0][0], resumed[0][0])  # the stream really moved on


def test_classification_stream_continues_mid_pass(tmp_path):
    for cls, value in (("dark", 10), ("bright", 200)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            tifffile.imwrite(tmp_path / cls / f"{i}.tif", np.full((12, 10), value + 7 * i, np.uint8))
    recipe = make_recipe("classification", data={"layout": "class_folders", "split": {"validation": 0, "test": 0}},
                         preprocess={"image_size": 16, "normalize": {"method": "fixed", "fixed_max": 255}},
                         augment={"gaussian_noise": 0.1})
    full = _samples(recipe, tmp_path, 15)
    resumed = _samples(recipe, tmp_path, 7, start_sample=8)  # 6 images per pass: resume inside the 2nd pass
    for (x1, y1), (x2, y2) in zip(full[8:], resumed, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_negative_start_is_refused(tmp_path):
    write_seg_folder(tmp_path, 2)
    recipe = make_recipe("instance_segmentation", data={"masks": "masks", "split": {"validation": 0, "test": 0}},
                         preprocess={"patch": {"size": 16, "per_image": 1}})
    with pytest.raises(ValueError, match="start_sample=-1"):
        _samples(recipe, tmp_path, 1, start_sample=-1)

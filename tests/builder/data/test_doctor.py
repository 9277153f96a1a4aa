"""The data doctor: every finding on a purpose-built broken dataset."""

from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from builder.data.doctor import check_dataset, check_folder
from tests.builder.data.data_helpers import make_recipe, write_seg_folder, write_seg_pair


def _find(problems, text, severity=None):
    hits = [p for p in problems if text in p.what and (severity is None or p.severity == severity)]
    assert hits, f"no finding with {text!r} in:\n" + "\n".join(p.format() for p in problems)
    assert all(p.where for p in hits)
    assert all(p.fix for p in hits if p.severity != "info")
    return hits


def _seg(tmp_path, **data):
    return make_recipe(data={"masks": "masks", **data}, preprocess={"patch": {"size": 16}})


def test_clean_dataset_has_no_errors(tmp_path):
    problems = check_dataset(_seg(tmp_path), write_seg_folder(tmp_path, 6))
    assert not [p for p in problems if p.severity != "info"], [p.format() for p in problems]
    _find(problems, "Images per split: train 4, validation 1, test 1")


def test_missing_masks_images_shape_and_mask_content(tmp_path):
    write_seg_folder(tmp_path, 4)
    tifffile.imwrite(tmp_path / "images" / "lonely.tif", np.zeros((32, 32), np.uint16))
    tifffile.imwrite(tmp_path / "masks" / "orphan.tif", np.zeros((32, 32), np.uint16))
    write_seg_pair(tmp_path, "small", mask=np.ones((20, 20), np.uint16))  # smaller than the patch? no: 20 >= 16
    tifffile.imwrite(tmp_path / "masks" / "small.tif", np.ones((24, 24), np.uint16))  # shape mismatch
    write_seg_pair(tmp_path, "empty", mask=np.zeros((32, 32), np.uint16))
    write_seg_pair(tmp_path, "float", mask=np.zeros((32, 32), np.uint16))
    tifffile.imwrite(tmp_path / "masks" / "float.tif", np.full((32, 32), 0.5, np.float32))
    write_seg_pair(tmp_path, "rgbmask", mask=np.zeros((32, 32), np.uint16))
    tifffile.imwrite(tmp_path / "masks" / "rgbmask.tif", np.ones((32, 32, 3), np.uint8), photometric="rgb")
    problems = check_dataset(_seg(tmp_path, split={"validation": 0, "test": 0}), tmp_path)
    assert _find(problems, "image without a mask", "error")[0].where.endswith("lonely.tif")
    assert _find(problems, "mask without an image", "warning")[0].where.endswith("orphan.tif")
    _find(problems, "mask is 24x24 but its image small.tif is 20x20", "error")
    assert _find(problems, "mask is empty", "warning")[0].where.endswith("empty.tif")
    _find(problems, "non-integer values (e.g. 0.5)", "error")
    _find(problems, "mask has 3 channels", "error")
    _find(problems, "validation set is empty", "warning")


def test_channels_dtype_rgb_small_images_and_pixel_sizes(tmp_path):
    write_seg_folder(tmp_path, 4)
    write_seg_pair(tmp_path, "tiny", mask=np.ones((10, 10), np.uint16))
    write_seg_pair(tmp_path, "eight", seed=9, dtype=np.uint8)
    rgb = np.random.default_rng(0).integers(0, 255, (32, 32, 3)).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "images" / "colour.png")
    tifffile.imwrite(tmp_path / "masks" / "colour.tif", np.ones((32, 32), np.uint16))
    two = np.zeros((2, 32, 32), np.uint16)
    tifffile.imwrite(tmp_path / "images" / "two.tif", two, imagej=True, metadata={"axes": "CYX"})
    tifffile.imwrite(tmp_path / "masks" / "two.tif", np.ones((32, 32), np.uint16))
    for name, size in (("img0", 0.5), ("img1", 1.0)):
        data = tifffile.imread(tmp_path / "images" / f"{name}.tif")
        tifffile.imwrite(tmp_path / "images" / f"{name}.tif", data, imagej=True, resolution=(1 / size, 1 / size),
                         metadata={"unit": "um"})
    problems = check_dataset(_seg(tmp_path), tmp_path)
    assert _find(problems, "RGB image where grey images were expected", "error")[0].where.endswith("colour.png")
    assert _find(problems, "has 2 channels but the other images have 1", "error")[0].where.endswith("two.tif")
    assert _find(problems, "smaller than the patch size 16", "warning")[0].where.endswith("tiny.tif")
    assert _find(problems, "is uint8 while most images are uint16", "warning")[0].where.endswith("eight.tif")
    _find(problems, "pixel size 1 µm differs from 0.5 µm", "warning")


def test_unreadable_files_are_named_and_skipped_only_when_allowed(tmp_path):
    write_seg_folder(tmp_path, 4)
    broken = tmp_path / "images" / "img2.tif"
    broken.write_bytes(broken.read_bytes()[:100])
    strict = check_dataset(_seg(tmp_path), tmp_path)
    assert _find(strict, "could not be read", "error")[0].where == str(broken)
    lenient = check_dataset(_seg(tmp_path, skip_unreadable=True), tmp_path)
    assert _find(lenient, "It is skipped", "warning")[0].where == str(broken)
    assert not [p for p in lenient if p.severity == "error"]


def test_duplicates_across_splits(tmp_path):
    write_seg_folder(tmp_path, 6)
    for name in ("img1", "img2", "img3", "img4", "img5"):  # every image the same pixels
        (tmp_path / "images" / f"{name}.tif").write_bytes((tmp_path / "images" / "img0.tif").read_bytes())
    problems = check_dataset(_seg(tmp_path), tmp_path)
    _find(problems, "same pixels as", "error")
    _find(problems, "duplicate of", "warning")


def test_classification_counts_imbalance_and_empty_class(tmp_path):
    for cls, n in (("big", 12), ("small", 3), ("none", 0)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            tifffile.imwrite(tmp_path / cls / f"{i}.tif", np.full((8, 8), i + 10 * len(cls), np.uint8))
    recipe = make_recipe("classification", data={"layout": "class_folders", "classes": ["big", "small", "none"]})
    problems = check_dataset(recipe, tmp_path)
    _find(problems, "Images per class in train: big 8, small 1")
    _find(problems, "classes are imbalanced", "warning")
    _find(problems, "class 'none' has no training images", "error")


def test_check_folder_guesses_layout(tmp_path):
    write_seg_folder(tmp_path, 3)
    problems = check_folder(tmp_path)
    _find(problems, "Read as semantic segmentation (images/ + masks/)")
    assert check_folder(tmp_path / "images")[0].severity == "error"  # a folder of plain images: cannot tell

"""Class labels are written as class folders, a manifest CSV, or cell crops in class folders."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from builder.annotation.classes import (
    class_of,
    crop_classes,
    crop_name,
    folder_counts,
    label_counts,
    manifest_labels,
    move_to_class,
    object_boxes,
    save_crop,
    set_manifest_label,
)
from builder.errors import DataError


def test_moving_between_class_folders(tmp_path):
    image = tmp_path / "a.tif"
    tifffile.imwrite(image, np.zeros((4, 4), np.uint8))
    moved = move_to_class(image, tmp_path, "healthy")
    assert moved == tmp_path / "healthy" / "a.tif" and not image.exists()
    assert class_of(moved, tmp_path) == "healthy" and class_of(image, tmp_path) is None
    again = move_to_class(moved, tmp_path, "infected")
    assert again.is_file() and not moved.exists()
    assert folder_counts(tmp_path, ["healthy", "infected"]) == {"healthy": 0, "infected": 1, "unsorted": 0}
    (tmp_path / "b").mkdir()
    tifffile.imwrite(tmp_path / "healthy" / "a.tif", np.zeros((4, 4), np.uint8))
    with pytest.raises(DataError, match="already in that class"):
        move_to_class(again, tmp_path, "healthy")
    with pytest.raises(DataError, match="Invalid class name"):
        move_to_class(again, tmp_path, "../x")


def test_manifest_label_column_is_updated_and_other_columns_kept(tmp_path):
    manifest = tmp_path / "labels.csv"
    manifest.write_text("path,label,split\nimg/a.tif,,train\nimg/b.tif,wbc,test\n")
    set_manifest_label(manifest, "img/a.tif", "rbc")
    set_manifest_label(manifest, "img/b.tif", "platelet")
    set_manifest_label(manifest, "img/c.tif", "rbc")
    assert manifest.read_text() == ("path,label,split\nimg/a.tif,rbc,train\nimg/b.tif,platelet,test\n"
                                    "img/c.tif,rbc,\n")
    labels = manifest_labels(manifest)
    assert labels == {"img/a.tif": "rbc", "img/b.tif": "platelet", "img/c.tif": "rbc"}
    assert label_counts(labels, ["rbc", "wbc", "platelet"]) == {"rbc": 2, "wbc": 0, "platelet": 1}


def test_a_manifest_without_label_column_gets_one(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("image\nx.png\n")
    set_manifest_label(manifest, "x.png", "a")
    assert manifest.read_text() == "image,label\nx.png,a\n"


def test_cell_crops_land_in_one_class_folder(tmp_path):
    pixels = np.arange(100, dtype=np.uint16).reshape(10, 10)
    labels = np.zeros((10, 10), np.int32)
    labels[2:4, 3:6] = 1
    labels[8:, 8:] = 2
    boxes = object_boxes(labels, pad=1)
    assert boxes == {1: (1, 5, 2, 7), 2: (7, 10, 7, 10)}
    name = crop_name(tmp_path / "img.tif", 1)
    first = save_crop(pixels, boxes[1], tmp_path / "cells", "rbc", name)
    np.testing.assert_array_equal(tifffile.imread(first), pixels[1:5, 2:7])
    second = save_crop(pixels, boxes[1], tmp_path / "cells", "wbc", name)
    assert not first.exists() and second.is_file()
    assert crop_classes(tmp_path / "cells", tmp_path / "img.tif") == {1: "wbc"}


def test_a_one_channel_crop_is_a_plain_2d_image_and_rgb_stays_rgb(tmp_path):
    grey = np.arange(36, dtype=np.uint8).reshape(6, 6, 1)
    path = save_crop(grey, (1, 4, 2, 5), tmp_path, "a", "g.tif")
    np.testing.assert_array_equal(tifffile.imread(path), grey[1:4, 2:5, 0])
    rgb = np.arange(6 * 6 * 3, dtype=np.uint8).reshape(6, 6, 3)
    np.testing.assert_array_equal(tifffile.imread(save_crop(rgb, (0, 2, 0, 3), tmp_path, "a", "c.tif")),
                                  rgb[:2, :3])

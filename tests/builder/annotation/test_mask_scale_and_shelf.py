"""A rewritten mask keeps the image's pixel size; undo histories of images left are kept, bounded, and only
handed back for the labels they end at."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from builder.annotation.edits import brush
from builder.annotation.history import EditHistory, HistoryShelf
from builder.annotation.store import write_labels
from builder.data.readers import read_image, read_pixel_size


def _labels() -> np.ndarray:
    labels = np.zeros((12, 10), np.int32)
    labels[2:6, 3:7] = 4
    return labels


def test_a_new_mask_records_the_pixel_size_given(tmp_path):
    path = write_labels(tmp_path / "a.tif", _labels(), pixel_size=0.65)
    assert read_image(path).pixel_size == pytest.approx(0.65)


def test_rewriting_a_mask_keeps_the_resolution_tags_of_the_old_file(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, _labels().astype(np.uint16), imagej=True, resolution=(1 / 0.25, 1 / 0.25),
                     metadata={"unit": "um", "axes": "YX"})  # as Fiji saves it
    write_labels(path, _labels() * 2)
    assert read_pixel_size(path) == pytest.approx(0.25)
    np.testing.assert_array_equal(tifffile.imread(path), _labels() * 2)


def test_rewriting_an_ome_mask_keeps_its_physical_size(tmp_path):
    path = tmp_path / "a.ome.tif"
    tifffile.imwrite(path, _labels().astype(np.uint16), ome=True,
                     metadata={"axes": "YX", "PhysicalSizeX": 0.108, "PhysicalSizeY": 0.108})
    assert read_pixel_size(path) == pytest.approx(0.108)
    write_labels(path, _labels())
    assert read_image(path).pixel_size == pytest.approx(0.108)


def _edited(n: int, shape=(32, 32)) -> tuple[EditHistory, np.ndarray]:
    history, labels = EditHistory(), np.zeros(shape, np.int32)
    for i in range(n):
        after = brush(labels, [(i % shape[0], 0), (i % shape[0], shape[1] - 1)], 0, i + 1)
        history.record(labels, after, "brush")
        labels = after
    return history, labels


def test_the_shelf_hands_a_history_back_only_for_the_labels_it_ends_at():
    shelf = HistoryShelf()
    history, labels = _edited(3)
    shelf.put("a.tif", history, labels)
    changed = labels.copy()
    changed[0, 0] = 99  # the mask changed on disk meanwhile
    assert shelf.take("a.tif", changed) is None
    shelf.put("a.tif", history, labels)
    back = shelf.take("a.tif", labels)
    assert back is history and back.can_undo
    np.testing.assert_array_equal(back.undo(back.undo(back.undo(labels))), np.zeros((32, 32), np.int32))


def test_the_shelf_keeps_at_most_the_images_and_bytes_it_is_given():
    shelf = HistoryShelf(max_images=2)
    for name in "abc":
        shelf.put(name, *_edited(2))
    assert len(shelf) == 2 and shelf.take("a", _edited(2)[1]) is None  # the oldest went
    one, labels = _edited(10)
    budget = one.nbytes // 2
    small = HistoryShelf(max_images=5, max_bytes=budget)
    small.put("x", *_edited(2))
    small.put("big", one, labels)
    assert 0 < small.nbytes <= budget and len(small) == 1
    assert small.take("big", labels).can_undo  # its newest edits were kept

"""Undo/redo, autosave timing and label files that reload identically."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from builder.annotation.autosave import AutosavePolicy
from builder.annotation.edits import brush
from builder.annotation.history import EditHistory
from builder.annotation.store import label_path_for, read_labels, write_labels
from builder.errors import DataError


def test_undo_and_redo_walk_back_and_forth():
    history = EditHistory()
    first = np.zeros((6, 6), np.int32)
    second = brush(first, [(1, 1), (1, 4)], 0, 1)
    third = brush(second, [(4, 0), (4, 5)], 0, 2)
    assert history.record(first, second, "brush") and history.record(second, third, "brush")
    assert not history.record(third, third.copy())
    np.testing.assert_array_equal(history.undo(third), second)
    np.testing.assert_array_equal(history.undo(second), first)
    assert not history.can_undo
    np.testing.assert_array_equal(history.redo(first), second)
    np.testing.assert_array_equal(history.redo(second), third)
    assert not history.can_redo


def test_a_new_edit_drops_the_redo_stack_and_the_limit_holds():
    history = EditHistory(limit=2)
    states = [np.full((2, 2), i, np.int32) for i in range(4)]
    for a, b in zip(states, states[1:], strict=False):
        history.record(a, b)
    labels = history.undo(history.undo(states[3]))
    np.testing.assert_array_equal(labels, states[1])
    assert not history.can_undo  # only two kept
    history.record(labels, states[0])
    assert not history.can_redo


def test_autosave_after_n_strokes_or_after_the_wait():
    now = [0.0]
    policy = AutosavePolicy(every_strokes=3, every_seconds=10, clock=lambda: now[0])
    assert not policy.edited() and not policy.edited() and policy.edited()
    policy.saved()
    assert not policy.due()
    policy.edited()
    now[0] = 9.9
    assert not policy.due()
    now[0] = 10.0
    assert policy.due()


@pytest.mark.parametrize("name", ["a.tif", "a.png"])
def test_saved_labels_reload_identically(tmp_path, name):
    labels = np.zeros((9, 11), np.int32)
    labels[2:5, 3:8] = 1
    labels[6:, :2] = 300
    path = write_labels(tmp_path / "masks" / name, labels)
    np.testing.assert_array_equal(read_labels(path), labels)
    assert [p.name for p in path.parent.iterdir()] == [name]  # no temporary file left
    if name.endswith(".tif"):
        assert tifffile.imread(path).dtype == np.uint16


def test_many_objects_are_written_as_uint32(tmp_path):
    labels = np.arange(70000, dtype=np.int32).reshape(280, 250)
    path = write_labels(tmp_path / "big.tif", labels)
    assert tifffile.imread(path).dtype == np.uint32
    np.testing.assert_array_equal(read_labels(path), labels)


def test_the_mask_goes_next_to_the_images_folder(tmp_path):
    assert label_path_for(tmp_path / "images" / "cell 1.ome.tif") == tmp_path / "masks" / "cell 1.tif"
    assert label_path_for(tmp_path / "images" / "x.png", existing=tmp_path / "m" / "x_mask.png") == \
        tmp_path / "m" / "x_mask.png"


def test_unknown_format_and_broken_file_are_named(tmp_path):
    with pytest.raises(DataError, match=r"\.jpg"):
        write_labels(tmp_path / "a.jpg", np.zeros((2, 2), np.int32))
    broken = tmp_path / "b.tif"
    broken.write_bytes(b"not a tiff")
    with pytest.raises(DataError, match="Cannot read the mask"):
        read_labels(broken)

"""Label edits give exactly the expected arrays."""

from __future__ import annotations

import numpy as np
import pytest

from builder.annotation.edits import (
    brush,
    delete_object,
    erase,
    flood_fill,
    merge_objects,
    new_object_id,
    object_count,
    polygon_fill,
    separate_disconnected,
    split_object,
)
from builder.errors import CellwrightError


def grid(text: str) -> np.ndarray:
    return np.array([[int(ch) for ch in line.split()] for line in text.strip().splitlines()], np.int32)


def test_brush_paints_a_round_stroke_and_keeps_other_objects():
    labels = grid("""
        0 0 0 0 0 0 0
        0 0 0 0 0 0 0
        0 0 0 0 0 0 2
        0 0 0 0 0 0 0
        0 0 0 0 0 0 0""")
    out = brush(labels, [(2, 1), (2, 6)], radius=1, value=1)
    np.testing.assert_array_equal(out, grid("""
        0 0 0 0 0 0 0
        0 1 1 1 1 1 1
        1 1 1 1 1 1 2
        0 1 1 1 1 1 1
        0 0 0 0 0 0 0"""))
    assert labels.max() == 2  # the input is untouched
    assert brush(labels, [(2, 6)], radius=0, value=1, overwrite=True)[2, 6] == 1


def test_erase_clears_a_stroke_or_only_one_object():
    labels = grid("""
        1 1 2 2
        1 1 2 2""")
    np.testing.assert_array_equal(erase(labels, [(0, 0), (0, 3)], radius=0), grid("""
        0 0 0 0
        1 1 2 2"""))
    np.testing.assert_array_equal(erase(labels, [(0, 0), (1, 3)], radius=1, only=2), grid("""
        1 1 0 0
        1 1 0 0"""))


def test_flood_fill_fills_the_inside_of_an_outline_only():
    ring = grid("""
        0 0 0 0 0 0
        0 3 3 3 3 0
        0 3 0 0 3 0
        0 3 0 0 3 0
        0 3 3 3 3 0
        0 0 0 0 0 0""")
    out = flood_fill(ring, (2, 2), 3)
    expected = ring.copy()
    expected[2:4, 2:4] = 3
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(flood_fill(ring, (1, 1), 5), np.where(ring == 3, 5, 0))


def test_polygon_fills_pixels_inside_and_on_the_outline():
    out = polygon_fill(np.zeros((6, 7), np.int32), [(1, 1), (1, 5), (4, 5), (4, 1)], 4)
    np.testing.assert_array_equal(out, grid("""
        0 0 0 0 0 0 0
        0 4 4 4 4 4 0
        0 4 4 4 4 4 0
        0 4 4 4 4 4 0
        0 4 4 4 4 4 0
        0 0 0 0 0 0 0"""))
    triangle = polygon_fill(np.zeros((5, 5), np.int32), [(0, 0), (4, 0), (4, 4)], 1)
    np.testing.assert_array_equal(triangle, np.tril(np.ones((5, 5), np.int32)))
    with pytest.raises(CellwrightError, match="three corners"):
        polygon_fill(np.zeros((5, 5), np.int32), [(0, 0), (4, 4)], 1)


def test_split_along_a_line_gives_the_pieces_new_ids_and_loses_no_pixel():
    labels = grid("""
        0 0 0 0 0 0 0 0
        0 5 5 5 5 5 5 0
        0 5 5 5 5 5 5 0
        0 5 5 5 5 5 5 0
        0 0 0 0 0 0 0 9""")
    out, ids = split_object(labels, [(0, 2), (4, 2)])
    assert ids == [5, 10]
    np.testing.assert_array_equal(out, grid("""
        0 0 0 0 0 0 0 0
        0 10 10 5 5 5 5 0
        0 10 10 5 5 5 5 0
        0 10 10 5 5 5 5 0
        0 0 0 0 0 0 0 9"""))
    assert ((out > 0) == (labels > 0)).all()


def test_a_diagonal_cut_separates_the_object():
    labels = np.zeros((8, 8), np.int32)
    labels[1:7, 1:7] = 1
    out, ids = split_object(labels, [(0, 0), (7, 7)])
    assert ids == [1, 2] and object_count(out) == 2
    assert ((out > 0) == (labels > 0)).all()
    assert out[1, 6] != out[6, 1]


def test_split_says_when_the_line_does_not_cut_through():
    labels = np.zeros((6, 6), np.int32)
    labels[1:5, 1:5] = 1
    with pytest.raises(CellwrightError, match="does not cut object 1 in two"):
        split_object(labels, [(0, 2), (2, 2)])
    with pytest.raises(CellwrightError, match="crosses no object"):
        split_object(labels, [(5, 0), (5, 5)])


def test_merge_delete_and_new_ids():
    labels = grid("""
        1 1 0 2
        0 0 0 2
        7 0 0 0""")
    np.testing.assert_array_equal(merge_objects(labels, 1, 2), grid("""
        1 1 0 1
        0 0 0 1
        7 0 0 0"""))
    np.testing.assert_array_equal(delete_object(labels, 7), np.where(labels == 7, 0, labels))
    assert new_object_id(labels) == 8 and object_count(labels) == 3
    with pytest.raises(CellwrightError, match="no object 4"):
        merge_objects(labels, 1, 4)
    with pytest.raises(CellwrightError, match="two different objects"):
        merge_objects(labels, 2, 2)


def test_erasing_through_an_object_keeps_ids_unique():
    labels = np.zeros((3, 7), np.int32)
    labels[:, :] = 3
    cut = erase(labels, [(0, 3), (2, 3)], radius=0)
    out = separate_disconnected(cut, [3])
    np.testing.assert_array_equal(out, grid("""
        3 3 3 0 4 4 4
        3 3 3 0 4 4 4
        3 3 3 0 4 4 4"""))

"""Objects that swallow two cells of the frame before are cut apart; divisions and fragments are left alone."""

from __future__ import annotations

import numpy as np

from builder.tasks.tracking import track_frames
from builder.tracking.split_merges import split_merged
from tests.builder.tracking.drawing import draw


def two_cells_then_merged() -> np.ndarray:
    """Frame 0: cells 1 and 2 touching side by side; frame 1: the same two cells as one object (a merge)."""
    frames = draw([[(30, 22, 9), (30, 40, 9)], [(30, 23, 9), (30, 40, 9)]], (60, 64))
    frames[1][frames[1] == 2] = 1
    return frames


def test_a_merged_object_is_cut_along_the_cells_of_the_frame_before():
    labels = two_cells_then_merged()
    out = split_merged(labels)
    assert len(np.unique(out[1][out[1] > 0])) == 2
    truth = draw([[(30, 23, 9), (30, 40, 9)]], (60, 64))[0]
    for cell in (1, 2):  # each part is one of the true cells, nearly exactly
        part = np.bincount(out[1][truth == cell]).argmax()
        iou = ((out[1] == part) & (truth == cell)).sum() / ((out[1] == part) | (truth == cell)).sum()
        assert iou > 0.9
    lineage, masks = track_frames(list(labels))
    assert len(lineage.tracks) == 2 and all(len(np.unique(m[m > 0])) == 2 for m in masks)


def test_divisions_fragments_and_single_cells_are_not_cut():
    division = draw([[(30, 30, 10)], [(30, 22, 8), (30, 40, 8)]], (60, 64))  # one mother, two daughters
    assert np.array_equal(split_merged(division), division)
    fragment = draw([[(30, 24, 10), (30, 36, 2)], [(30, 26, 10)]], (60, 64))  # a speck beside a cell
    fragment[0][(fragment[0] == 2)] = 2
    assert np.array_equal(split_merged(fragment), fragment)
    moved = draw([[(30, 22, 9), (30, 40, 9)], [(30, 31, 9)]], (60, 64))  # one cell-sized object over two halves
    assert np.array_equal(split_merged(moved), moved)

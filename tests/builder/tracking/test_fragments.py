"""Small pieces cut off a cell go back to it; small objects on their own stay."""

from __future__ import annotations

import numpy as np

from builder.tasks.tracking import track_frames
from builder.tracking.fragments import absorb_frame
from tests.builder.tracking.drawing import draw


def _frame_with_piece() -> np.ndarray:
    """Three cells (radius 10); a 3 x 3 piece cut off the first one's edge; a 3 x 3 speck touching nothing."""
    frame = draw([[(30, 30, 10), (30, 70, 10), (70, 50, 10)]])[0]
    frame[29:32, 40:43] = 4  # touches cell 1 (its edge is at x = 40)
    frame[85:88, 85:88] = 5  # alone
    return frame


def test_a_piece_touching_one_cell_joins_it_and_a_lone_speck_stays():
    out = absorb_frame(_frame_with_piece())
    assert 4 not in out and (out[29:32, 41:43] == 1).all()
    assert (out[85:88, 85:88] == 5).all()
    assert sorted(np.unique(out[out > 0]).tolist()) == [1, 2, 3, 5]


def test_a_piece_between_two_cells_stays():
    frame = draw([[(30, 30, 10), (30, 53, 10)]])[0]  # cells 1 and 2 three pixels apart at x = 40..43
    frame[29:32, 41:43] = 3
    assert (absorb_frame(frame)[29:32, 41:43] == 3).all()


def test_tracking_does_not_count_a_piece_as_a_cell():
    """Before, the piece in frames 2-3 became a track of its own (a false object in every frame it showed)."""
    frames = np.stack([draw([[(30, 30, 10), (30, 70, 10), (70, 50, 10)]])[0]] * 2 + [_frame_with_piece()] * 2)
    frames[2:, 85:88, 85:88] = 0
    lineage, masks = track_frames(list(frames))
    assert len(lineage.tracks) == 3
    assert (masks[3][29:32, 41:43] == masks[3][30, 30]).all()

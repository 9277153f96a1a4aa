"""Linking on constructed cases: one test per event type (move, birth, death, division, gap)."""

from __future__ import annotations

import numpy as np

from builder.tracking.lineage import TrackRow, lineage_from_graph
from builder.tracking.linker import LinkSettings, track
from tests.builder.tracking.drawing import draw


def tracks_of(labels: np.ndarray, **settings) -> list[TrackRow]:
    return lineage_from_graph(track(labels, settings=LinkSettings(**settings))).tracks


def test_moving_cells_keep_one_track_each():
    frames = [[(20 + 3 * t, 20, 5), (70, 70 - 3 * t, 5)] for t in range(6)]
    assert tracks_of(draw(frames)) == [TrackRow(1, 0, 5, 0), TrackRow(2, 0, 5, 0)]


def test_fast_cells_are_followed_without_tuning_the_radius():
    # each cell jumps 14 px a frame, farther than its own diameter (10 px); neighbours stay 40 px apart
    frames = [[(10 + 14 * t, 15, 5), (10 + 14 * t, 55, 5), (80 - 14 * t, 90, 5)] for t in range(6)]
    labels = draw(frames, (100, 110))
    rows = tracks_of(labels)
    assert rows == [TrackRow(1, 0, 5, 0), TrackRow(2, 0, 5, 0), TrackRow(3, 0, 5, 0)]


def test_birth_starts_a_new_track_without_parent():
    frames = [[(20, 20, 5)] + ([(70, 70, 5)] if t >= 2 else []) for t in range(5)]
    assert tracks_of(draw(frames)) == [TrackRow(1, 0, 4, 0), TrackRow(2, 2, 4, 0)]


def test_death_ends_the_track():
    frames = [[(20, 20, 5)] + ([(70, 70, 5)] if t < 2 else []) for t in range(5)]
    assert tracks_of(draw(frames)) == [TrackRow(1, 0, 4, 0), TrackRow(2, 0, 1, 0)]


def test_division_gives_two_daughters_of_the_mother():
    mother = [[(48, 48 + t, 9)] for t in range(3)]
    daughters = [[(48, 40 - t, 6), (48, 58 + t, 6)] for t in range(3)]
    rows = tracks_of(draw(mother + daughters))
    assert rows[0] == TrackRow(1, 0, 2, 0)
    assert sorted(rows[1:]) == [TrackRow(2, 3, 5, 1), TrackRow(3, 3, 5, 1)]


def test_a_fragment_next_to_a_cell_is_no_daughter():
    """A speck appearing beside a cell (an over-segmented piece, 3 % of a cell's area) starts its own track; a
    daughter of half the cell's size still makes a division."""
    cell = [(48, 48 + t, 9) for t in range(6)]
    other = (20, 80, 9)
    speck = [[cell[t], other] + ([(48, 36, 1.6)] if t >= 3 else []) for t in range(6)]
    rows = tracks_of(draw(speck))
    assert all(r.parent == 0 for r in rows) and len(rows) == 3
    half = [[cell[t], other] + ([(48, 34, 6.5)] if t >= 3 else []) for t in range(6)]
    assert sum(r.parent != 0 for r in tracks_of(draw(half))) == 2


def test_a_mother_cut_in_two_for_one_frame_divides_when_its_daughters_appear():
    """The segmentation cuts a piece off the mother one frame before she divides (the piece is gone the next
    frame): the division is at the daughters' first frame, and the piece is a one-frame track of its own."""
    other = (20, 80, 9)
    frames = [[(48, 48, 9), other] for _ in range(3)]
    frames += [[(48, 50, 8), other, (48, 37, 5)]]  # the piece
    frames += [[(48, 48, 9), other]]
    frames += [[(48, 40 - t, 7), other, (48, 57 + t, 7)] for t in range(3)]
    rows = tracks_of(draw(frames))
    mother = next(r for r in rows if r.begin == 0 and r.end == 4)
    daughters = [r for r in rows if r.parent == mother.label]
    assert sorted((r.begin, r.end) for r in daughters) == [(5, 7), (5, 7)]
    assert any(r.begin == r.end == 3 and r.parent == 0 for r in rows)


def test_no_division_when_switched_off():
    mother = [[(48, 48, 9)] for _ in range(3)]
    daughters = [[(48, 40, 6), (48, 58, 6)] for _ in range(3)]
    rows = tracks_of(draw(mother + daughters), divisions=False)
    assert all(r.parent == 0 for r in rows) and len(rows) == 2


def test_gap_is_closed_with_a_new_label_whose_parent_is_the_old_one():
    frames = [[(20 + 2 * t, 20, 5), (70, 70, 5)] if t != 2 else [(70, 70, 5)] for t in range(6)]
    rows = tracks_of(draw(frames), max_gap=2)
    assert rows == [TrackRow(1, 0, 1, 0), TrackRow(2, 0, 5, 0), TrackRow(3, 3, 5, 1)]


def test_gap_longer_than_max_gap_is_not_closed():
    frames = [[(20, 20, 5), (70, 70, 5)] if t not in (2, 3) else [(70, 70, 5)] for t in range(6)]
    rows = tracks_of(draw(frames), max_gap=1)
    assert [r.parent for r in rows] == [0, 0, 0]


def test_relabelled_masks_hold_one_label_per_track_in_every_frame():
    frames = [[(20 + 2 * t, 20, 5), (70, 70, 5)] if t != 2 else [(70, 70, 5)] for t in range(6)]
    labels = draw(frames)
    lineage = lineage_from_graph(track(labels))
    masks = lineage.relabel(labels)
    assert masks.dtype == np.uint16
    for row in lineage.tracks:
        present = [t for t in range(len(masks)) if (masks[t] == row.label).any()]
        assert present == list(range(row.begin, row.end + 1))

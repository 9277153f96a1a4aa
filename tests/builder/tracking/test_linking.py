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
    # a true division: the mother (radius 9) gives two daughters (radius 7 and 6.5), neither of them her again
    half = [[cell[t] if t < 3 else (48, 50 + t, 7), other] + ([(48, 34, 6.5)] if t >= 3 else []) for t in range(6)]
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


def _joined_for_one_frame(newcomer_radius: float) -> np.ndarray:
    """A cell alone for three frames; a newcomer appears touching it and is segmented together with it in its
    first frame (one object over both), then on its own for three frames."""
    cell, newcomer = (48, 40, 9), (48, 57, newcomer_radius)
    labels = draw([[cell]] * 3 + [[cell, newcomer]] * 4)
    labels[3][labels[3] == 2] = 1  # the merge: one label over both
    return labels


def test_a_neighbour_joining_a_cell_for_one_frame_is_no_division():
    """The cell grows by the newcomer in one frame, then "splits" into itself and the newcomer: the cell's track
    goes on and the newcomer starts its own track (no parent); before, the cell was taken as dividing."""
    rows = tracks_of(_joined_for_one_frame(7))
    assert rows == [TrackRow(1, 0, 6, 0), TrackRow(2, 4, 6, 0)]


def test_a_mother_that_grows_then_divides_in_halves_still_divides():
    """Growth alone is no merge: a mother that grows in her last frame and gives two daughters of half her size
    each (neither as large as she was before) divides."""
    frames = [[(48, 48, 8)]] * 3 + [[(48, 48, 10)]] + [[(48, 40 - t, 7), (48, 57 + t, 7)] for t in range(3)]
    rows = tracks_of(draw(frames))
    assert rows[0] == TrackRow(1, 0, 3, 0)
    assert sorted(rows[1:]) == [TrackRow(2, 4, 6, 1), TrackRow(3, 4, 6, 1)]


def test_a_cell_that_falls_into_pieces_does_not_divide():
    """The outline of a cell (radius 10) falls into two small pieces (radius 4.5 and 4.6: a fifth of its area
    each): the larger piece goes on with the cell's track, the other starts its own; a mother giving each daughter
    about half of her (radius 7.5: 0.56 of her area) still divides."""
    other = (20, 80, 9)
    before = [[(48, 50, 10), other]] * 3
    pieces = before + [[(48, 45, 4.5), other, (48, 55, 4.6)]] * 3
    rows = tracks_of(draw(pieces))
    assert all(r.parent == 0 for r in rows)
    assert any(r.begin == 0 and r.end == 5 for r in rows)
    halves = before + [[(48, 43 - t, 7.5), other, (48, 57 + t, 7.5)] for t in range(3)]
    assert sum(r.parent != 0 for r in tracks_of(draw(halves))) == 2


def test_a_cell_appearing_beside_a_cell_is_no_daughter():
    """A cell comes into view next to a cell that keeps its size and place (no merge, no growth): the newcomer
    starts its own track; before, the linker made it the cell's daughter."""
    cell = (48, 40, 9)
    rows = tracks_of(draw([[cell]] * 3 + [[cell, (48, 60, 8)]] * 3))
    assert rows == [TrackRow(1, 0, 5, 0), TrackRow(2, 3, 5, 0)]


def _newborn_daughter_beside_a_newcomer() -> np.ndarray:
    """A mother (radius 9) divides at frame 3 into two daughters (radius 7) that move apart; at frame 4 a newcomer
    (radius 5) appears touching the right daughter and stays beside her."""
    frames = [[(48, 48, 9)] for _ in range(3)]
    frames += [[(48, 40 - t, 7), (48, 57 + t, 7)] + ([(48, 70 + t, 5)] if t >= 1 else []) for t in range(4)]
    return draw(frames, (96, 112))


def test_a_daughter_does_not_divide_in_the_frame_after_her_birth():
    """The newcomer beside a daughter born the frame before is no daughter of hers (no cell divides twice in two
    frames): it starts its own track. Before, the newborn daughter was taken as dividing into herself and it."""
    rows = tracks_of(_newborn_daughter_beside_a_newcomer())
    mother = next(r for r in rows if r.begin == 0)
    assert sorted((r.begin, r.end, r.parent) for r in rows if r.parent) == [(3, 6, mother.label)] * 2
    assert [(r.begin, r.end, r.parent) for r in rows if r.begin == 4] == [(4, 6, 0)]


def test_small_daughters_that_stand_apart_are_a_division_not_pieces():
    """A rounded mother (radius 10) cut into two small daughters (radius 5.8: a third of her area each) whose
    centres stand 1.6 of her radii apart, at her poles, and move apart: a division. Before, the size alone made
    them pieces of her and the division was dropped."""
    other = (20, 80, 9)
    frames = [[(48, 50, 10), other]] * 3 + [[(48, 42 - 2 * t, 5.8), other, (48, 58 + 2 * t, 5.8)] for t in range(3)]
    rows = tracks_of(draw(frames))
    mother = next(r for r in rows if r.begin == 0 and r.end == 2)
    assert sorted((r.begin, r.end) for r in rows if r.parent == mother.label) == [(3, 5), (3, 5)]


def test_a_daughter_taken_by_a_newborn_neighbour_goes_to_her_own_mother():
    """Mother A divides at frame 3; mother B divides at frame 4 into B1 (moving right) and X (r 5.5), which lands
    nearer A's newborn right daughter than B. X is first taken as the newborn's daughter; that division is undone
    (no cell divides in the frame after her birth) and X is offered again, now to B. Before, X started a track
    without parent and B's division was missed."""
    frames = [[(48, 30, 9), (48, 80, 9)] for _ in range(3)]
    frames += [[(48, 22, 7), (48, 40, 7), (48, 80, 9)]]
    frames += [[(48, 20 - t, 7), (48, 42 + t, 7), (48, 88 + t, 7), (48, 55 + t, 5.5)] for t in range(3)]
    rows = tracks_of(draw(frames, (96, 120)))
    mother_b = next(r for r in rows if r.begin == 0 and r.end == 3)
    assert sorted((r.begin, r.end) for r in rows if r.parent == mother_b.label) == [(4, 6), (4, 6)]
    assert sum(r.parent != 0 for r in rows) == 4  # A's two daughters and B's: no other division


def test_a_daughter_merged_with_a_neighbour_at_birth_is_found_a_frame_late():
    """A mother (radius 10) divides at frame 3; her right daughter is segmented together with a neighbour in that
    frame (one object over both) and on her own from frame 4. The merged object's "division" into the neighbour
    and her is undone, and she is offered to the cell that lost half her area at frame 3 (the mother going on as
    her left daughter): a division one frame late. Before, the right daughter started a track without parent."""
    mother, neighbour = (48, 40, 10), (48, 66, 9)
    frames = [[mother, neighbour] for _ in range(3)]
    frames += [[(48, 32, 7), neighbour, (48, 50, 7)]]
    frames += [[(48, 30 - t, 7), (48, 68 + t, 9), (48, 50 + t, 7)] for t in range(3)]
    labels = draw(frames, (96, 112))
    labels[3][labels[3] == 3] = 2  # the newborn right daughter and the neighbour: one object
    rows = tracks_of(labels)
    first = next(r for r in rows if r.begin == 0 and r.end < 6)
    assert sorted((r.begin, r.end) for r in rows if r.parent == first.label) == [(4, 6), (4, 6)]
    assert sum(r.parent != 0 for r in rows) == 2  # the neighbour goes on without dividing


def test_a_cell_leaving_the_image_is_not_given_a_newcomer():
    """A small cell halves as she leaves the image at the left border while a newcomer, segmented together with
    a cell for one frame, is freed beside her: the newcomer starts a track without parent (a cell smaller than
    the frame's median that shrinks is leaving, not dividing)."""
    big = [(20, 90, 12), (80, 90, 12)]
    cell = (48, 36, 9)
    frames = [[(48, 4, 8), cell] + big for _ in range(3)]
    frames += [[(48, -1, 8), cell, (48, 22, 6)] + big]
    frames += [[(48, -3 - t, 8), cell, (48, 21 - t, 6)] + big for t in range(3)]
    labels = draw(frames, (96, 112))
    labels[3][labels[3] == 3] = 2  # the newcomer and the cell: one object
    rows = tracks_of(labels)
    assert all(r.parent == 0 for r in rows)
    assert sorted((r.begin, r.end) for r in rows) == [(0, 6)] * 4 + [(4, 6)]


def test_a_newcomer_freed_from_a_cell_is_not_given_to_a_passing_neighbour():
    """A newcomer segmented together with a cell for one frame is freed by the checks; a neighbour moving past
    (3 px a frame, keeping her size) is within reach but lost nothing: the newcomer starts a track without parent.
    Offering every freed object to every mother made the neighbour divide."""
    cell, newcomer = (48, 40, 9), (48, 57, 7)
    frames = [[cell, (40, 76 + 3 * t, 9)] + ([newcomer] if t >= 3 else []) for t in range(7)]
    labels = draw(frames, (96, 120))
    labels[3][labels[3] == 3] = 1  # the newcomer and the cell: one object
    rows = tracks_of(labels)
    assert all(r.parent == 0 for r in rows)
    assert sorted((r.begin, r.end) for r in rows) == [(0, 6), (0, 6), (4, 6)]

"""The playable movie behind the GUI's player: SEG masks numbered by track, tails, division links, errors."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from builder.errors import CellwrightError
from builder.tracking.colours import track_colour, track_colours
from builder.tracking.lineage import TrackRow
from builder.tracking.movie import TrackMovie, movie_from_ctc, relabel_seg_by_markers
from tests.builder.tracking.drawing import draw


def test_colour_table_matches_the_report_colours():
    table = track_colours(300)
    for label in (1, 2, 17, 299):
        assert tuple(table[label]) == tuple(round(255 * c) for c in track_colour(label))
    assert tuple(table[0]) == (0, 0, 0)


def test_seg_objects_take_the_track_id_of_the_marker_they_overlap_most():
    seg = np.zeros((20, 20), np.int32)
    seg[2:10, 2:10] = 1  # overlaps marker 7 on 4 px and marker 9 on 9 px
    seg[12:18, 12:18] = 2  # no marker: dropped
    markers = np.zeros((20, 20), np.int32)
    markers[2:4, 2:4] = 7
    markers[6:9, 6:9] = 9
    out = relabel_seg_by_markers(seg, markers)
    assert set(np.unique(out)) == {0, 9}
    assert np.array_equal(out > 0, seg == 1)


def test_tails_and_division_links_follow_the_lineage():
    # track 1 moves right for 3 frames, then divides into 2 (up) and 3 (down)
    labels = draw([[(20, 10, 4)], [(20, 14, 4)], [(20, 18, 4)], [(12, 22, 3), (28, 22, 3)]], (40, 40))
    labels[3] = np.where(labels[3] > 0, labels[3] + 1, 0)  # the daughters are tracks 2 and 3
    movie = TrackMovie(np.zeros((4, 40, 40), np.uint16), labels,
                       [TrackRow(1, 0, 2, 0), TrackRow(2, 3, 3, 1), TrackRow(3, 3, 3, 1)])
    assert movie.n_divisions() == 1
    assert [round(x) for _y, x in movie.tail(1, 2, 10)] == [10, 14, 18]
    assert movie.tail(1, 2, 1) == movie.tail(1, 2, 10)[-2:]
    links = {label: (a, b) for a, b, label in movie.division_links(3, 5)}
    assert set(links) == {2, 3}
    assert [round(v) for v in links[2][0]] == [20, 18] and [round(v) for v in links[2][1]] == [12, 22]
    assert movie.division_links(3 + 5, 5) == []  # born longer ago than the tail: no link drawn


def test_wrong_inputs_are_located_errors(tmp_path):
    with pytest.raises(CellwrightError, match="frames are"):
        TrackMovie(np.zeros((3, 8, 8)), np.zeros((2, 8, 8), np.int32), [])
    (tmp_path / "01").mkdir()
    tifffile.imwrite(tmp_path / "01" / "t000.tif", np.zeros((8, 8), np.uint16))
    with pytest.raises(CellwrightError, match="no tracking ground truth") as error:
        movie_from_ctc(tmp_path)
    assert "TRA" in error.value.where

"""The learned link scorer: a real Keras model trained on constructed ground-truth tracks links new sequences."""

from __future__ import annotations

import numpy as np

from builder.tracking.learned import scorer_from_tracks, training_pairs
from builder.tracking.lineage import TrackRow, lineage_from_graph
from builder.tracking.linker import track
from tests.builder.tracking.drawing import draw


def crossing(shift: int) -> np.ndarray:
    """Three cells moving right at ``shift`` px a frame, 22 px apart vertically (label = track id)."""
    return draw([[(20, 10 + shift * t, 5), (42, 12 + shift * t, 5), (64, 8 + shift * t, 5)] for t in range(7)],
                (100, 100))


def test_training_pairs_mark_true_links_and_divisions():
    masks = crossing(6)
    rows = [TrackRow(1, 0, 6), TrackRow(2, 0, 6), TrackRow(3, 0, 6)]
    x, y, radius = training_pairs(masks, None, {r.label: r.parent for r in rows}, {r.label: r.begin for r in rows})
    assert radius > 6 and x.shape[1] == 4
    assert y.sum() == 3 * 6  # every true frame-to-frame link is a positive
    assert (y == 0).any() and (x[y == 1, 0] < x[y == 0, 0].min()).all()  # true links are the near ones here


def test_learned_scorer_links_cells_like_the_ground_truth():
    train = crossing(6)
    scorer = scorer_from_tracks(train, None, [TrackRow(k, 0, 6) for k in (1, 2, 3)], epochs=30)
    rows = lineage_from_graph(track(crossing(7), scorer=scorer)).tracks
    assert rows == [TrackRow(1, 0, 6), TrackRow(2, 0, 6), TrackRow(3, 0, 6)]

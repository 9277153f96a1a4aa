"""The SEG breakdown: missed, merged and outline errors add up to 1 - SEG, and SEG equals the CTC measure."""

from __future__ import annotations

import pytest

from builder.tracking.lineage import TrackRow
from builder.tracking.metrics import ctc_scores
from builder.tracking.seg_errors import seg_breakdown
from tests.builder.tracking.drawing import draw


def test_each_kind_of_error_is_counted_where_it_happens():
    truth = draw([[(20, 20, 6), (20, 34, 6), (60, 60, 6), (80, 20, 6), (80, 60, 8)]])
    pred = draw([[(20, 27, 14), (60, 60, 6), (80, 60, 6)]])  # 1+2 merged, 3 exact, 4 missed, 5 too small
    out = seg_breakdown({0: truth[0]}, pred)
    assert (out["cells"], out["missed"], out["merged"]) == (5, 1, 2)
    small = (truth[0] == 5).sum()
    assert out["lost_too_small"] == pytest.approx((1 - (pred[0] == 3).sum() / small) / 5)
    assert out["lost_too_large"] == 0.0 and out["lost_missed"] == pytest.approx(1 / 5)
    total = out["lost_missed"] + out["lost_merged"] + out["lost_too_small"] + out["lost_too_large"]
    assert total == pytest.approx(1 - out["SEG"])
    tracks = [TrackRow(k, 0, 0, 0) for k in range(1, 6)]
    ctc = ctc_scores(truth, tracks, pred, [TrackRow(k, 0, 0, 0) for k in range(1, 4)], {0: truth[0]})
    assert out["SEG"] == pytest.approx(ctc["SEG"])

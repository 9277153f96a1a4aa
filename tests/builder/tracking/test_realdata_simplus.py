"""Fluo-N2DH-SIM+ 01 (../shared/realdata): held-out frames 45-64, measures against py-ctcmetrics, linker vs the
frame-to-frame Hungarian baseline. Skips where the real data are absent."""

from __future__ import annotations

import numpy as np
import pytest

from builder.tracking.ctc_files import write_ctc_result
from builder.tracking.lineage import lineage_from_graph
from builder.tracking.linker import LinkSettings, track
from builder.tracking.measure import held_out
from builder.tracking.metrics import ctc_scores
from builder.tracking.reference import write_reference

pytestmark = pytest.mark.realdata


@pytest.fixture
def simplus(realdata):
    from builder.data.ctc import read_ctc_sequence

    return held_out(read_ctc_sequence(realdata / "ctc_Fluo-N2DH-SIM+_01"), 45)


def test_linking_on_given_detections_beats_the_hungarian_baseline_and_equals_py_ctcmetrics(simplus, tmp_path):
    ctc_metrics = pytest.importorskip("ctc_metrics")
    frames, tra, rows, seg = simplus
    labels = np.stack([seg[t] for t in range(len(frames))])
    scores = {}
    for name, settings in (("ours", LinkSettings()), ("hungarian", LinkSettings(max_gap=0, divisions=False))):
        lineage = lineage_from_graph(track(labels, frames[..., 0], settings))
        scores[name] = ctc_scores(tra, rows, lineage.relabel(labels), lineage.tracks, seg)
        if name == "ours":
            write_ctc_result(tmp_path / "RES", lineage.relabel(labels), lineage.tracks)
    assert scores["ours"]["TRA"] > scores["hungarian"]["TRA"]
    assert scores["ours"]["TRA"] >= 0.998 and scores["ours"]["division_recall(2)"] >= 0.8
    gt = write_reference(tmp_path / "GT", tra, rows, seg)
    theirs = ctc_metrics.evaluate_sequence(str(tmp_path / "RES"), str(gt), ["DET", "SEG", "TRA", "LNK", "CT", "BC"],
                                           threads=1)
    for key in ("DET", "SEG", "TRA", "LNK", "CT", "BC(0)", "BC(2)"):
        assert scores["ours"][key] == theirs[key], key

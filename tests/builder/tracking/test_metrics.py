"""CTC measures against the field's tools: py-ctcmetrics (the challenge's evaluation) and traccuracy.

Both are test-only dependencies (extra ``test-tracking``); the tests skip where they are not installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from builder.tracking.ctc_files import read_ctc_result, write_ctc_result
from builder.tracking.lineage import TrackRow
from builder.tracking.metrics import ctc_scores
from builder.tracking.reference import crop_tracks, write_reference
from tests.builder.tracking.drawing import draw

KEYS = ("DET", "TRA", "LNK", "SEG", "CT", "BC(0)", "BC(1)")


def reference_case():
    """Cell 1 moves and divides into 2 and 3 at frame 3; cell 4 lives in frames 0-5."""
    frames = []
    for t in range(6):
        cells = [(20, 20 + 2 * t, 6)] if t < 3 else [(14, 26, 5), (28, 26, 5)]
        frames.append(cells + [(70, 70, 6)])
    tra = draw(frames)
    for t in range(3, 6):  # labels: mother 1, daughters 2 and 3, other cell 4
        frame = tra[t].copy()
        tra[t][frame == 1], tra[t][frame == 2], tra[t][frame == 3] = 2, 3, 4
    tra[:3][tra[:3] == 2] = 4
    tracks = [TrackRow(1, 0, 2, 0), TrackRow(2, 3, 5, 1), TrackRow(3, 3, 5, 1), TrackRow(4, 0, 5, 0)]
    return tra, tracks


def results():
    """(name, masks, tracks) results with known kinds of errors."""
    tra, tracks = reference_case()
    out = [("perfect", tra.copy(), list(tracks))]
    no_div = tra.copy()
    out.append(("division missed", no_div, [TrackRow(1, 0, 2, 0), TrackRow(2, 3, 5, 0), TrackRow(3, 3, 5, 0),
                                             TrackRow(4, 0, 5, 0)]))
    merged = tra.copy()
    merged[3:][merged[3:] == 3] = 2
    merged[3:] = np.where((merged[3:] == 0) & (np.indices(merged.shape[1:])[0] > 14) &
                          (np.indices(merged.shape[1:])[0] < 28) & (abs(np.indices(merged.shape[1:])[1] - 26) < 3),
                          2, merged[3:])
    out.append(("daughters merged", merged, [TrackRow(1, 0, 2, 0), TrackRow(2, 3, 5, 1), TrackRow(4, 0, 5, 0)]))
    fp = tra.copy()
    fp[1][fp[1] == 4] = 0  # cell 4 missed in frame 1: it continues as track 5 (parent 4) after the gap
    fp[2:][fp[2:] == 4] = 5
    fp[2, 85:90, 5:10] = 9  # a false object in frame 2
    out.append(("false positive and missed object", fp, [TrackRow(1, 0, 2, 0), TrackRow(2, 3, 5, 1),
                                                         TrackRow(3, 3, 5, 1), TrackRow(4, 0, 0, 0),
                                                         TrackRow(5, 2, 5, 4), TrackRow(9, 2, 2, 0)]))
    swapped = tra.copy()
    swapped[4:][tra[4:] == 2], swapped[4:][tra[4:] == 4] = 4, 2
    out.append(("identity switch", swapped, list(tracks)))
    return out


@pytest.fixture(scope="module")
def ctc_metrics():
    return pytest.importorskip("ctc_metrics")


@pytest.mark.parametrize("case", range(5))
def test_measures_equal_py_ctcmetrics_on_constructed_results(case, tmp_path, ctc_metrics):
    tra, tracks = reference_case()
    name, masks, rows = results()[case]
    seg = {0: tra[0], 4: tra[4]}
    gt = write_reference(tmp_path / "01_GT", tra, tracks, seg)
    write_ctc_result(tmp_path / "01_RES", masks, rows)
    theirs = ctc_metrics.evaluate_sequence(str(tmp_path / "01_RES"), str(gt),
                                           ["DET", "SEG", "TRA", "LNK", "CT", "BC"], threads=1)
    ours = ctc_scores(tra, tracks, *read_ctc_result(tmp_path / "01_RES"), ref_seg=seg)
    for key in KEYS:
        assert ours[key] == theirs[key], (name, key, ours[key], theirs[key])


def test_known_answers_on_constructed_results():
    tra, tracks = reference_case()
    named = {name: (m, r) for name, m, r in results()}
    perfect = ctc_scores(tra, tracks, *named["perfect"], ref_seg={0: tra[0]})
    assert perfect["TRA"] == perfect["DET"] == perfect["SEG"] == perfect["LNK"] == perfect["CT"] == 1.0
    assert perfect["BC(0)"] == 1.0
    missed = ctc_scores(tra, tracks, *named["division missed"])
    # two parent links missing: EA = 2; 15 vertices, 13 edges -> TRA = 1 - 1.5 * 2 / (10 * 15 + 1.5 * 13)
    assert (missed["EA"], missed["ED"], missed["EC"]) == (2, 0, 0)
    assert missed["TRA"] == pytest.approx(1 - 3 / 169.5) and missed["DET"] == 1.0
    assert missed["BC(0)"] == 0.0  # no correct division: 0, as py-ctcmetrics reports it


def test_traccuracy_agrees_on_tra_det_lnk_and_divisions(tmp_path):
    pytest.importorskip("traccuracy")
    from traccuracy.loaders import load_ctc_data
    from traccuracy.matchers import CTCMatcher
    from traccuracy.metrics import CTCMetrics, DivisionMetrics

    tra, tracks = reference_case()
    for name, masks, rows in results():
        write_reference(tmp_path / name / "GT", tra, tracks)
        write_ctc_result(tmp_path / name / "RES", masks, rows)
        gt = load_ctc_data(str(tmp_path / name / "GT" / "TRA"), str(tmp_path / name / "GT" / "TRA" / "man_track.txt"))
        pred = load_ctc_data(str(tmp_path / name / "RES"), str(tmp_path / name / "RES" / "res_track.txt"))
        ours = ctc_scores(tra, tracks, masks, rows)
        matched = CTCMatcher().compute_mapping(gt, pred)
        theirs = CTCMetrics().compute(matched).to_dict()["results"]
        for key in ("TRA", "DET", "LNK"):
            assert ours[key] == pytest.approx(theirs[key], abs=1e-12), (name, key)
        if name == "daughters merged":  # one computed object covers two true ones: traccuracy refuses
            with pytest.raises(Exception, match="(?i)does not meet the requirements"):
                DivisionMetrics(max_frame_buffer=0).compute(matched)
            continue
        div = DivisionMetrics(max_frame_buffer=0).compute(matched).to_dict()["results"]["Frame Buffer 0"]
        if ours["division_tp(0)"] == 0:  # traccuracy: NaN F1 when nothing is right; ours (and py-ctcmetrics): 0
            assert math.isnan(div["Division F1"]) and ours["BC(0)"] == 0.0
        else:
            assert ours["BC(0)"] == pytest.approx(div["Division F1"])
        assert (ours["division_tp(0)"], ours["division_fp(0)"]) == (div["True Positive Divisions"],
                                                                    div["False Positive Divisions"])


def test_crop_tracks_renumbers_frames_and_drops_parents_outside():
    tracks = [TrackRow(1, 0, 4, 0), TrackRow(2, 5, 9, 1), TrackRow(3, 5, 6, 1), TrackRow(4, 7, 9, 3)]
    assert crop_tracks(tracks, 6, 10) == [TrackRow(2, 0, 3, 0), TrackRow(3, 0, 0, 0), TrackRow(4, 1, 3, 3)]


def test_ctc_result_round_trip(tmp_path):
    tra, tracks = reference_case()
    paths = write_ctc_result(tmp_path, tra.astype(np.int32), tracks)
    assert [p.name for p in paths[:2]] == ["mask000.tif", "mask001.tif"] and paths[-1].name == "res_track.txt"
    masks, rows = read_ctc_result(tmp_path)
    assert masks.dtype == np.uint16 and np.array_equal(masks, tra) and rows == sorted(tracks)

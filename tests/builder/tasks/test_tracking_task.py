"""The tracking task reads its linking settings from the recipe (``evaluate.tracking``)."""

from __future__ import annotations

import pytest

from builder.errors import CellwrightError
from builder.recipe import load_recipe
from builder.tasks.tracking import link_settings


def _recipe(tmp_path, tracking: str):
    path = tmp_path / "r.yaml"
    path.write_text(f"cellwright: 1\nname: t\ntask: tracking\ndata: {{layout: ctc, root: data}}\n"
                    f"evaluate:\n  tracking: {tracking}\n")
    return load_recipe(path)


def test_linking_settings_come_from_the_recipe(tmp_path):
    settings = link_settings(_recipe(tmp_path, "{max_gap: 0, divisions: false, search_radius: 30}"))
    assert (settings.max_gap, settings.divisions, settings.radius) == (0, False, 30.0)
    default = link_settings(_recipe(tmp_path, "{}"))
    assert (default.max_gap, default.divisions, default.radius) == (2, True, None)  # radius measured from speed


def test_a_bad_tracking_setting_is_a_located_error(tmp_path):
    with pytest.raises(CellwrightError, match="max_gap"):
        _recipe(tmp_path, "{max_gap: -1}")


def test_learned_scorer_is_trained_on_the_frames_before_the_test_frames(tmp_path):
    from builder.data.ctc import read_ctc_sequence
    from builder.data.demo import make_demo
    from builder.data.layouts import Sample
    from builder.tasks.tracking import learned_scorer, track_frames
    from builder.tracking.metrics import ctc_scores
    from builder.tracking.reference import crop_tracks

    make_demo("timelapse", tmp_path, n_images=14, size=64, seed=0)
    test = [Sample(tmp_path / "01" / f"t{t:03d}.tif", mask_path=tmp_path / "01_GT" / "TRA" / f"man_track{t:03d}.tif")
            for t in range(10, 14)]
    scorer = learned_scorer(test)
    assert scorer is not None
    seq = read_ctc_sequence(tmp_path)
    lineage, masks = track_frames(list(seq.tra[10:]), list(seq.frames[10:, ..., 0]), scorer=scorer)
    scores = ctc_scores(seq.tra[10:], crop_tracks(seq.tracks, 10, 14), masks, lineage.tracks)
    assert scores["TRA"] > 0.9  # real markers of unseen frames, linked by the learned scores

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
    from builder.model_files.safe_import import load_keras_safely
    from builder.run_folder import files
    from builder.tasks.tracking import link_scorer, scorer_sequences, track_frames
    from builder.tracking.learned import scorer_model
    from builder.tracking.metrics import ctc_scores
    from builder.tracking.reference import crop_tracks

    make_demo("timelapse", tmp_path, n_images=14, size=64, seed=0)
    before = [Sample(tmp_path / "01" / f"t{t:03d}.tif", mask_path=tmp_path / "01_GT" / "TRA" /
                     f"man_track{t:03d}.tif", group="01") for t in (0, 2, 3, 4, 5, 6, 7, 8, 9)]
    sequences = scorer_sequences(before)
    assert [len(masks) for masks, _, _ in sequences] == [8]  # the unbroken frames 2-9 before the test frames
    seq = read_ctc_sequence(tmp_path)
    assert (sequences[0][0] == seq.tra[2:10]).all()
    scorer_model(sequences).save(tmp_path / "scorer.keras")
    recipe = _recipe(tmp_path, "{link_scorer: learned}")
    scorer = link_scorer(recipe, {files.LINK_SCORER.name: load_keras_safely(tmp_path / "scorer.keras")})
    lineage, masks = track_frames(list(seq.tra[10:]), list(seq.frames[10:, ..., 0]), scorer=scorer)
    scores = ctc_scores(seq.tra[10:], crop_tracks(seq.tracks, 10, 14), masks, lineage.tracks)
    assert scores["TRA"] > 0.9  # real markers of unseen frames, linked by the learned scores


def test_a_learned_scorer_asked_for_and_missing_is_a_located_error(tmp_path):
    from builder.tasks.tracking import link_scorer

    assert link_scorer(_recipe(tmp_path, "{link_scorer: rules}"), {}) is None
    with pytest.raises(CellwrightError, match="Received: link_scorer=learned and a model without one") as info:
        link_scorer(_recipe(tmp_path, "{link_scorer: learned}"), {})
    assert info.value.where == "evaluate.tracking.link_scorer" and "link_scorer: rules" in info.value.fix

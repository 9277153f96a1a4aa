"""The tracking task registers its output with the true cells: a consistent sub-pixel offset between the network's
outlines and the masks is measured on the validation frames, undone when it raises SEG by more than the margin,
recorded with the tuned settings and applied when frames are post-processed (evaluate and predict)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from builder.recipe import load_recipe
from builder.tasks.instances import three_class_target
from builder.tasks.registration import matched_offsets, shift_output, tune_shift
from builder.tasks.tracking import TUNING_MARGIN, Tracking, segmentation_score
from tests.builder.tracking.drawing import draw

CELLS = [(20, 20, 7.5), (22, 44, 8.5), (44, 22, 6.5), (46, 46, 9.0)]


def _offset_outputs(dy: float, dx: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(true labels, three-class probabilities of the same cells drawn (dy, dx) pixels away), two frames."""
    truths = [draw([CELLS], (64, 64))[0], draw([[(y + 1, x - 1, r) for y, x, r in CELLS]], (64, 64))[0]]
    outputs = []
    for frame in ([CELLS], [[(y + 1, x - 1, r) for y, x, r in CELLS]]):
        moved = draw([[(y + dy, x + dx, r) for y, x, r in frame[0]]], (64, 64))[0]
        outputs.append(np.eye(3, dtype=np.float32)[three_class_target(moved)])
    return truths, outputs


def _recipe(tmp_path: Path):
    path = tmp_path / "r.yaml"
    path.write_text("cellwright: 1\nname: t\ntask: tracking\ndata: {layout: ctc, root: data}\n")
    return load_recipe(path)


def _labelled(outputs: list[np.ndarray], recipe, params: dict) -> list[np.ndarray]:
    return [Tracking().interpret(o, recipe, params)["prediction"] for o in outputs]


def test_offsets_are_measured_on_matched_cells():
    truths, outputs = _offset_outputs(1.0, -2.0)
    preds = [np.argmax(o, -1) > 0 for o in outputs]
    from scipy import ndimage as ndi

    offsets = matched_offsets(truths, [ndi.label(p)[0] for p in preds])
    assert offsets.shape == (8, 2)
    assert np.allclose(offsets.mean(axis=0), [1.0, -2.0], atol=0.1)


def test_a_consistent_offset_is_undone_and_raises_seg(tmp_path):
    recipe = _recipe(tmp_path)
    truths, outputs = _offset_outputs(1.0, -2.0)
    settings = {"threshold": 0.5, "seed_threshold": 0.5, "min_size": 10}

    def labelled(dy: float, dx: float) -> list[np.ndarray]:
        return _labelled(outputs, recipe, {**settings, "shift_y": dy, "shift_x": dx})

    tuned = tune_shift(labelled, truths, segmentation_score, TUNING_MARGIN)
    assert tuned["shift_y"] == pytest.approx(-1.0, abs=0.1) and tuned["shift_x"] == pytest.approx(2.0, abs=0.1)
    assert tuned["shift_seg"] > tuned["start_shift_seg"] + 0.1
    assert tuned["shift_seg"] == pytest.approx(segmentation_score(truths, labelled(tuned["shift_y"],
                                                                                   tuned["shift_x"])))


def test_without_an_offset_the_shift_stays_zero(tmp_path):
    recipe = _recipe(tmp_path)
    truths, outputs = _offset_outputs(0.0, 0.0)
    settings = {"threshold": 0.5, "seed_threshold": 0.5, "min_size": 10}
    tuned = tune_shift(lambda dy, dx: _labelled(outputs, recipe, {**settings, "shift_y": dy, "shift_x": dx}),
                       truths, segmentation_score, TUNING_MARGIN)
    assert (tuned["shift_y"], tuned["shift_x"]) == (0.0, 0.0)
    assert tuned["shift_seg"] == tuned["start_shift_seg"] == pytest.approx(1.0)


def test_a_shift_below_the_margin_is_not_kept(tmp_path):
    """A fraction of a pixel that moves no outline pixel of these discs gains nothing: kept at 0."""
    recipe = _recipe(tmp_path)
    truths, outputs = _offset_outputs(0.0, 0.0)
    settings = {"threshold": 0.5, "seed_threshold": 0.5, "min_size": 10}
    tuned = tune_shift(lambda dy, dx: _labelled(outputs, recipe, {**settings, "shift_y": dy, "shift_x": dx}),
                       truths, lambda t, p: segmentation_score(t, p) * 0.0 + 0.5, TUNING_MARGIN)
    assert (tuned["shift_y"], tuned["shift_x"]) == (0.0, 0.0)


def test_tracking_tuning_records_the_shift_and_evaluate_and_predict_apply_it(tmp_path):
    from builder.workflow.inference import finish_prediction, postprocess_settings

    recipe = _recipe(tmp_path)
    truths, outputs = _offset_outputs(0.0, 2.0)
    start = postprocess_settings(recipe)
    assert (start["shift_y"], start["shift_x"]) == (0.0, 0.0)  # a run tuned before the shift existed: none
    tuned = Tracking().tune_postprocess(outputs, truths, recipe, start)
    assert tuned["shift_x"] == pytest.approx(-2.0, abs=0.1) and "shift" in tuned["shift_name"]
    params = postprocess_settings(recipe, tuned)  # what evaluate and predict read back from postprocess.json
    assert params["shift_x"] == tuned["shift_x"]
    before = segmentation_score(truths, _labelled(outputs, recipe, start))
    after = segmentation_score(truths, _labelled(outputs, recipe, params))
    assert after > before + 0.1
    raw = np.zeros((64, 64, 1), np.float32)
    result = finish_prediction(outputs[0], raw, raw, None, recipe, postprocess=tuned)  # the predict path
    assert np.array_equal(result["labels"] > 0, _labelled(outputs[:1], recipe, params)[0] > 0)
    assert np.allclose(result["output"], shift_output(outputs[0], 0.0, tuned["shift_x"]))  # saved as applied


def test_a_fractional_shift_does_not_join_touching_cells():
    """Two touching cells separated by a one-pixel dip of the interior map: interpolating that map by half a pixel
    would lift the dip above the seed threshold; the seeds move by whole pixels, so the cells stay apart, while the
    outline still moves by the fraction."""
    from builder.tasks.instances import postprocess_instances

    truth = draw([[(24, 18, 9), (24, 35, 9)]], (48, 54))[0]
    interior = np.where(truth > 0, 0.9, 0.0)
    interior[:, 26] = np.where(truth[:, 26] > 0, 0.45, 0.0)  # the neck between the two cells
    prob = np.stack([1.0 - (truth > 0), np.where(truth > 0, 1.0 - interior, 0.0), interior], -1).astype(np.float32)
    settings = {"threshold": 0.5, "seed_threshold": 0.5, "min_size": 10}
    assert postprocess_instances(prob, **settings).max() == 2
    from scipy import ndimage as ndi

    blurred = ndi.shift(prob, (0.0, 0.5, 0.0), order=1, mode="nearest")
    assert postprocess_instances(blurred, **settings).max() == 1  # what interpolating every map would do
    moved = shift_output(prob, 0.0, 0.6)
    assert postprocess_instances(moved, **settings).max() == 2
    moved_x = np.nonzero(postprocess_instances(moved, **settings))[1].mean() - np.nonzero(truth)[1].mean()
    assert 0.4 < moved_x < 1.1  # the outline moved by the fraction (rounded by the threshold), the seeds by 1
    assert np.allclose(moved.sum(-1), 1.0, atol=1e-5) and moved.min() >= 0.0


def test_registration_turned_off_in_the_recipe_keeps_the_output_where_it_is(tmp_path):
    from builder.workflow.inference import postprocess_settings

    recipe = _recipe(tmp_path)
    recipe.evaluate.postprocess.register_shift = False
    truths, outputs = _offset_outputs(0.0, 2.0)  # an offset the tuning would undo (the test above)
    tuned = Tracking().tune_postprocess(outputs, truths, recipe, postprocess_settings(recipe))
    assert (tuned["shift_y"], tuned["shift_x"]) == (0.0, 0.0)
    assert "shift_name" not in tuned

"""Tracking tunes its post-processing on CTC detection and segmentation, and keeps the recipe's thresholds unless
tuned ones are clearly better on the validation frames."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from builder.tasks.instances import tune_postprocess
from builder.tasks.tracking import TUNING_MARGIN, detection_score
from tests.builder.tracking.drawing import draw


def touching_pair() -> tuple[np.ndarray, np.ndarray]:
    """(truth labels, three-class probabilities): two touching discs whose interiors meet at probability 0.45."""
    truth = draw([[(24, 18, 9), (24, 34, 9)]], (48, 52))[0]
    interior = np.where(truth > 0, 0.9, 0.0)
    interior[:, 25:27] = np.where(truth[:, 25:27] > 0, 0.45, 0.0)  # the neck between the two cells
    prob = np.stack([1.0 - (truth > 0), np.where(truth > 0, 1.0 - interior, 0.0), interior], -1).astype(np.float32)
    rim = (truth > 0) & ~ndi.binary_erosion(truth > 0)
    prob[rim] = [0.45, 0.55, 0.0]  # an uncertain outline: thresholds above 0.55 drop it
    return truth, prob


def test_detection_score_counts_a_merge_as_a_lost_cell():
    truth, prob = touching_pair()
    from builder.tasks.instances import postprocess_instances

    split = postprocess_instances(prob, threshold=0.5, seed_threshold=0.5, min_size=10)
    merged = postprocess_instances(prob, threshold=0.5, seed_threshold=0.4, min_size=10)
    assert split.max() == 2 and merged.max() == 1
    assert detection_score([truth], [split]) == pytest.approx(1.0, abs=0.05)
    assert detection_score([truth], [merged]) < detection_score([truth], [split]) - 0.2


def test_a_tuned_value_must_beat_the_recipes_by_the_margin():
    truth, prob = touching_pair()
    start = {"threshold": 0.5, "seed_threshold": 0.5}

    def smaller_objects_score(labels, preds):  # a scorer that slightly prefers smaller objects
        return 0.5 - 0.00002 * sum(int((p > 0).sum()) for p in preds)

    free = tune_postprocess([prob], [truth], start=start, min_size=10, score_fn=smaller_objects_score)
    kept = tune_postprocess([prob], [truth], start=start, min_size=10, score_fn=smaller_objects_score,
                            margin=TUNING_MARGIN)
    assert (free["threshold"], free["seed_threshold"], free["min_size"]) != (0.5, 0.5, 10)
    assert (kept["threshold"], kept["seed_threshold"], kept["min_size"]) == (0.5, 0.5, 10)
    assert free["score"] - kept["score"] < TUNING_MARGIN


def test_within_the_margin_the_tie_break_decides_and_the_recipe_stays_where_it_cannot():
    truth, prob = touching_pair()
    start = {"threshold": 0.5, "seed_threshold": 0.5}

    def smaller_objects_score(labels, preds):  # slightly prefers smaller objects: all settings within the margin
        return 0.5 - 0.00002 * sum(int((p > 0).sum()) for p in preds)

    def one_object(preds):  # a second measure that wants the two cells merged (like a missed division)
        return float(sum(int(p.max()) == 1 for p in preds))

    merged = tune_postprocess([prob], [truth], start=start, min_size=10, score_fn=smaller_objects_score,
                              margin=TUNING_MARGIN, tie_break=one_object)
    assert merged["seed_threshold"] < 0.5  # the recipe's seeds split the cells: a lower seed threshold won
    from builder.tasks.instances import postprocess_instances

    assert postprocess_instances(prob, **{k: merged[k] for k in ("threshold", "seed_threshold", "min_size")}).max() == 1
    asked = [r for r in merged["tried"] if "tie_break" in r]
    assert asked and all(r["score"] >= merged["score"] - TUNING_MARGIN - 1e-9 for r in asked)

    kept = tune_postprocess([prob], [truth], start=start, min_size=10, score_fn=smaller_objects_score,
                            margin=TUNING_MARGIN, tie_break=lambda preds: 0.0)  # cannot tell: the recipe stays
    assert (kept["threshold"], kept["seed_threshold"], kept["min_size"]) == (0.5, 0.5, 10)


@pytest.mark.slow
def test_tracking_tuning_asks_the_division_f1_of_the_validation_frames(tmp_path):
    """Real CTC frames with a division: the tracking task's tuner tracks the validation frames and records the
    division F1 of the settings it chose."""
    from builder.data.demo import make_demo
    from builder.data.layouts import Sample
    from builder.data.pipeline import load_split
    from builder.recipe import load_recipe
    from builder.tasks import get_task
    from builder.tasks.instances import three_class_target
    from builder.workflow.evaluate_job import original_grid

    make_demo("timelapse", tmp_path, n_images=14, size=64, seed=0)
    samples = [Sample(tmp_path / "01" / f"t{t:03d}.tif", mask_path=tmp_path / "01_GT" / "TRA" /
                      f"man_track{t:03d}.tif", group="01") for t in range(14)]
    path = tmp_path / "r.yaml"
    path.write_text(f"cellwright: 1\nname: t\ntask: tracking\ndata: {{layout: ctc, root: {tmp_path}}}\n")
    recipe = load_recipe(path)
    loaded = load_split(samples, recipe.data, original_grid(recipe))
    truths = [np.maximum(t[..., 0], 0).astype(np.int32) for t in loaded.targets]
    outputs = [np.eye(3, dtype=np.float32)[three_class_target(t)] for t in truths]  # a perfect network
    task = get_task("tracking")
    tuned = task.tune_postprocess(outputs, truths, recipe, {"threshold": 0.5, "seed_threshold": 0.5,
                                                            "min_size": 10}, loaded=loaded)
    assert 0.0 <= tuned["division_f1"] <= 1.0 and "division F1" in tuned["division_f1_name"]
    without = task.tune_postprocess(outputs, truths, recipe, {"threshold": 0.5, "seed_threshold": 0.5,
                                                              "min_size": 10})
    assert "division_f1" not in without

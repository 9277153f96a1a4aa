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

"""The foreground threshold chosen by outline fit (SEG) once the seeds are chosen by detection."""

from __future__ import annotations

import numpy as np

from builder.tasks.extent_tuning import extent_candidates
from builder.tasks.instances import instances_from_three_class, tune_postprocess
from builder.tasks.tracking import TUNING_MARGIN, detection_score, segmentation_score


def _blurred_cells(shape: tuple[int, int] = (64, 64), radius: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Three true disks of ``radius`` and a three-class output whose foreground probability falls off slowly
    across their edge, crossing 0.5 two pixels inside it (a network that draws cells too small at 0.5)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    truth = np.zeros(shape, np.int32)
    fg = np.zeros(shape, np.float32)
    interior = np.zeros(shape, np.float32)
    for label, (cy, cx) in enumerate(((16, 16), (16, 46), (46, 30)), start=1):
        r = np.hypot(yy - cy, xx - cx)
        truth[r <= radius] = label
        fg = np.maximum(fg, 1.0 / (1.0 + np.exp((r - (radius - 2.0)) / 4.0)))
        interior = np.maximum(interior, (r <= radius - 5).astype(np.float32))
    interior = np.minimum(interior, fg)
    prob = np.stack([1.0 - fg, fg - interior, interior], axis=-1).astype(np.float32)
    return truth, prob


def test_extent_candidates_stay_inside_zero_one() -> None:
    values = extent_candidates(0.95)
    assert values[0] == 0.95 and all(0.0 < v < 1.0 for v in values) and len(values) == len(set(values))


def test_threshold_moves_to_best_outline_fit_when_detection_cannot_tell() -> None:
    truth, prob = _blurred_cells()
    grid = {"threshold": (0.5,), "seed_threshold": (0.5,)}
    start = {"threshold": 0.5, "seed_threshold": 0.5}
    plain = tune_postprocess([prob], [truth], start=start, grid=grid, min_size=10, tune_min_size=False,
                             score_fn=detection_score, margin=TUNING_MARGIN)
    tuned = tune_postprocess([prob], [truth], start=start, grid=grid, min_size=10, tune_min_size=False,
                             score_fn=detection_score, margin=TUNING_MARGIN, extent_fn=segmentation_score)
    assert plain["threshold"] == 0.5 and "extent_score" not in plain
    # the best-fitting threshold of the candidates, measured here on its own
    seg = {t: segmentation_score([truth], [instances_from_three_class(prob, threshold=t, min_size=10)])
           for t in extent_candidates(0.5)}
    best = max(seg, key=seg.get)
    assert best < 0.5  # the constructed output draws cells too small at 0.5
    assert tuned["threshold"] == best
    assert tuned["extent_score"] == seg[best] > tuned["start_extent_score"] == seg[0.5]
    assert tuned["seed_threshold"] == 0.5


def test_threshold_stays_when_detection_would_drop() -> None:
    truth, prob = _blurred_cells()
    grid = {"threshold": (0.5,), "seed_threshold": (0.5,)}

    def detections(truths: list, preds: list) -> float:  # counts cells only, then penalises any change of 0.5
        return float(len(np.unique(preds[0])) - 1) - float(not np.array_equal(
            preds[0] > 0, instances_from_three_class(prob, threshold=0.5, min_size=10) > 0))

    tuned = tune_postprocess([prob], [truth], start={"threshold": 0.5, "seed_threshold": 0.5}, grid=grid,
                             min_size=10, tune_min_size=False, score_fn=detections, margin=0.5,
                             extent_fn=segmentation_score)
    assert tuned["threshold"] == 0.5
    assert len(tuned["extent_tried"]) == len(extent_candidates(0.5))


def test_a_gain_within_the_margin_does_not_move_the_threshold() -> None:
    truth, prob = _blurred_cells()
    seg = {t: segmentation_score([truth], [instances_from_three_class(prob, threshold=t, min_size=10)])
           for t in extent_candidates(0.5)}
    gain = max(seg.values()) - seg[0.5]
    assert gain > 0.01

    def tuned(margin: float) -> float:
        return tune_postprocess([prob], [truth], start={"threshold": 0.5, "seed_threshold": 0.5},
                                grid={"threshold": (0.5,), "seed_threshold": (0.5,)}, min_size=10,
                                tune_min_size=False, score_fn=lambda t, p: 1.0, margin=margin,
                                extent_fn=segmentation_score)["threshold"]

    assert tuned(gain + 1e-3) == 0.5
    assert tuned(gain - 1e-3) == max(seg, key=seg.get)

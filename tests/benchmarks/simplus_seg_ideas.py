"""SEG ideas on a trained SIM+ tracking run: the tuning's SEG stage for the foreground threshold and test-time
augmentation (``evaluate.postprocess.tta``), each chosen on the validation frames and scored once on the test frames.

Run: PYTHONPATH=. python tests/benchmarks/simplus_seg_ideas.py RUN_DIR --cache OUT
RUN_DIR: a run of tests/benchmarks/simplus_tracking.yaml (only read). The network runs once per frame and setting
(outputs cached in OUT.{plain,tta}.{validation,test}.npz; TTA makes eight passes per frame). For each idea, prints
the tuned thresholds, the validation SEG they reach, the test-frame TRA, DET, SEG, division F1 and the seconds per
frame of the network (measured while caching) and of post-processing + tracking + scoring.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np


def _outputs(source: Any, samples: list[Any], cache: Path, recipe: Any, key: str) -> tuple[Any, list, float | None]:
    """(loaded frames, network outputs, seconds per frame or None when read from the cache)."""
    from builder.data.pipeline import load_split
    from builder.workflow.evaluate_job import _outputs as network_outputs
    from builder.workflow.evaluate_job import original_grid
    from builder.workflow.inference import resolve_norm_stats

    loaded = load_split(samples, recipe.data, original_grid(recipe))
    path = Path(f"{cache}.{key}.npz")
    if path.is_file():
        stored = np.load(path)
        return loaded, [stored[f"o{i}"] for i in range(len(samples))], None
    stats, _ = resolve_norm_stats(source.normalization)
    start = time.perf_counter()
    _, outs, _ = network_outputs(source.model, recipe, loaded, stats, None, key, norm_record=source.normalization)
    seconds = (time.perf_counter() - start) / len(samples)
    np.savez_compressed(path, **{f"o{i}": o for i, o in enumerate(outs)})
    return loaded, outs, seconds


def main() -> None:
    from builder.tasks import get_task
    from builder.tasks.instances import tune_postprocess
    from builder.tasks.tracking import (
        DIVISION_TOLERANCE,
        TUNING_MARGIN,
        _track_sequences,
        detection_score,
        segmentation_score,
    )
    from builder.workflow.evaluate_job import ScoringContext, _samples_from_split_json
    from builder.workflow.inference import interpret_output, postprocess_settings
    from builder.workflow.model_source import open_model_source

    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args()
    source = open_model_source(args.run)
    task = get_task(source.recipe.task)
    validation = _samples_from_split_json(args.run, "validation")
    test = _samples_from_split_json(args.run, "test")
    start = postprocess_settings(source.recipe)
    for tta in (False, True):
        recipe = source.recipe.model_copy(deep=True)
        recipe.evaluate.postprocess.tta = tta
        name = "tta" if tta else "plain"
        val_loaded, val_outs, val_s = _outputs(source, validation, Path(f"{args.cache}.{name}"), recipe, "validation")
        test_loaded, test_outs, test_s = _outputs(source, test, Path(f"{args.cache}.{name}"), recipe, "test")
        truths = [np.maximum(t[..., 0], 0) for t in val_loaded.targets]

        def division_f1(preds: list, loaded: Any = val_loaded, outs: list = val_outs, rec: Any = recipe) -> float:
            rows = _track_sequences(loaded, outs, preds, rec, None)  # as the task's tie-break
            return float(np.mean([s.get(f"BC({DIVISION_TOLERANCE})") or 0.0 for _, _, s, _, _ in rows]))

        for refine in (False, True):
            if refine:  # the task's tuning now: division tie-break, then the SEG stage for the threshold
                tuned = task.tune_postprocess(val_outs, truths, recipe, start, loaded=val_loaded)
            else:  # the task's tuning before the SEG stage
                tuned = tune_postprocess(val_outs, truths, target=recipe.train.instance_target, start=dict(start),
                                         min_size=start["min_size"], score_fn=detection_score, margin=TUNING_MARGIN,
                                         tie_break=division_f1)
            params = {k: tuned[k] for k in ("threshold", "seed_threshold", "min_size")}
            val_seg = segmentation_score(truths, [interpret_output(o, recipe, params)["prediction"] for o in val_outs])
            t0 = time.perf_counter()
            results = [interpret_output(o, recipe, params) for o in test_outs]
            m, *_ = task.score(test_loaded, [], test_outs, results, ScoringContext(recipe, [], None,
                                                                                   source.normalization,
                                                                                   source.companions))
            post_s = (time.perf_counter() - t0) / len(test_outs)
            shown = {"tta": tta, "seg_stage": refine, **params, "val_SEG": val_seg,
                     **{f"test_{k}": m.get(k) for k in ("TRA", "DET", "SEG", "LNK", "BC(2)")},
                     "network_s_per_frame": test_s, "post_track_score_s_per_frame": post_s}
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in shown.items()}), flush=True)


if __name__ == "__main__":
    main()

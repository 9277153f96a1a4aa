"""Which post-processing thresholds keep the divisions: every tuning candidate of a trained SIM+ tracking run,
scored on the validation frames (what tuning may look at) and on the held-out test frames (what is reported).

Run: PYTHONPATH=. python tests/benchmarks/simplus_division_tuning.py RUN_DIR [--cache OUT.npz]
RUN_DIR: a run of tests/benchmarks/simplus_tracking.yaml (only read). The network runs once per frame (outputs
cached in --cache); the thresholds are tuned as the tracking task does, then tracked and scored like the run's
own evaluation.
Prints, for each way of choosing the thresholds (each uses the validation frames only), the settings chosen and
the test-frame TRA, DET, SEG, LNK, CT and division F1 (±2 frames).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np


def _outputs(source: Any, samples: list[Any], cache: Path | None, key: str) -> tuple[Any, list[np.ndarray]]:
    from builder.data.pipeline import load_split
    from builder.workflow.evaluate_job import _outputs as network_outputs
    from builder.workflow.evaluate_job import original_grid
    from builder.workflow.inference import resolve_norm_stats

    loaded = load_split(samples, source.recipe.data, original_grid(source.recipe))
    if cache is not None and cache.with_suffix(f".{key}.npz").is_file():
        stored = np.load(cache.with_suffix(f".{key}.npz"))
        return loaded, [stored[f"o{i}"] for i in range(len(samples))]
    stats, _ = resolve_norm_stats(source.normalization)
    _, outs, _ = network_outputs(source.model, source.recipe, loaded, stats, None, key,
                                 norm_record=source.normalization)
    if cache is not None:
        np.savez_compressed(cache.with_suffix(f".{key}.npz"), **{f"o{i}": o for i, o in enumerate(outs)})
    return loaded, outs


def _tracked(task: Any, source: Any, loaded: Any, outs: list[np.ndarray], params: dict[str, Any]) -> dict[str, Any]:
    from builder.workflow.evaluate_job import ScoringContext
    from builder.workflow.inference import interpret_output

    results = [interpret_output(o, source.recipe, params) for o in outs]
    m, *_ = task.score(loaded, [], outs, results, ScoringContext(source.recipe, [], None, source.normalization,
                                                                 source.companions))
    return m


def main() -> None:
    from builder.tasks import get_task
    from builder.tasks.instances import tune_postprocess
    from builder.tasks.tracking import TUNING_MARGIN, detection_score
    from builder.workflow.evaluate_job import _samples_from_split_json
    from builder.workflow.inference import postprocess_settings
    from builder.workflow.model_source import open_model_source

    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--cache", type=Path)
    args = parser.parse_args()
    source = open_model_source(args.run)
    recipe = source.recipe
    task = get_task(recipe.task)
    validation = _samples_from_split_json(args.run, "validation")
    test = _samples_from_split_json(args.run, "test")
    assert validation and test, "the run's split.json must list its validation and test frames"
    val_loaded, val_outs = _outputs(source, validation, args.cache, "validation")
    test_loaded, test_outs = _outputs(source, test, args.cache, "test")
    val_truths = [np.maximum(t[..., 0], 0) for t in val_loaded.targets]  # as evaluate_job.tune_postprocess
    start = postprocess_settings(recipe)
    target = recipe.train.instance_target

    def plain(margin: float) -> dict[str, Any]:
        return tune_postprocess(val_outs, val_truths, target=target, start=dict(start), min_size=start["min_size"],
                                score_fn=detection_score, margin=margin)

    rules = {"recipe thresholds (no tuning)": {**start, "score": None},
             "best validation DET/SEG, no margin": plain(0.0),
             f"validation DET/SEG with margin {TUNING_MARGIN} (before)": plain(TUNING_MARGIN),
             f"margin {TUNING_MARGIN}, division F1 decides within it (now)":
                 task.tune_postprocess(val_outs, val_truths, recipe, start, loaded=val_loaded)}
    for name, tuned in rules.items():
        params = {k: tuned[k] for k in ("threshold", "seed_threshold", "min_size")}
        val = _tracked(task, source, val_loaded, val_outs, params)
        tst = _tracked(task, source, test_loaded, test_outs, params)
        shown = {**params, "val_score": tuned.get("score"), "val_BC(2)": val.get("BC(2)"),
                 **{f"test_{k}": tst.get(k) for k in ("TRA", "DET", "SEG", "LNK", "BC(2)", "CT")},
                 "test_div_tp_fp_fn": [tst.get(f"division_{x}(2)") for x in ("tp", "fp", "fn")],
                 "test_divisions_true": tst.get("divisions_true")}
        print(name, json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in shown.items()}),
              flush=True)


if __name__ == "__main__":
    main()

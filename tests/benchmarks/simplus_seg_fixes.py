"""SEG fixes on a trained SIM+ tracking run, each chosen on the validation frames and scored once on the test frames.

Run: PYTHONPATH=. python tests/benchmarks/simplus_seg_fixes.py RUN_DIR --cache CACHE
RUN_DIR: a run of tests/benchmarks/simplus_tracking.yaml (only read); network outputs are read from (or written to)
``CACHE.{validation,test}.npz`` as in ``simplus_division_tuning.py``.
Prints one line per idea: the settings, the validation SEG they reach and the test-frame TRA, DET, SEG, LNK,
division F1 (±2 frames) with its true/false/missed divisions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np


def main() -> None:
    from builder.tasks import get_task
    from builder.tasks.tracking import segmentation_score
    from builder.workflow.evaluate_job import _samples_from_split_json
    from builder.workflow.inference import interpret_output, postprocess_settings
    from builder.workflow.model_source import open_model_source
    from tests.benchmarks.simplus_division_tuning import _outputs, _tracked

    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args()
    source = open_model_source(args.run)
    recipe = source.recipe
    task = get_task(recipe.task)
    val_loaded, val_outs = _outputs(source, _samples_from_split_json(args.run, "validation"), args.cache,
                                    "validation")
    test_loaded, test_outs = _outputs(source, _samples_from_split_json(args.run, "test"), args.cache, "test")
    truths = [np.maximum(t[..., 0], 0) for t in val_loaded.targets]
    start = postprocess_settings(recipe)
    saved = postprocess_settings(recipe, json.loads((args.run / "postprocess.json").read_text()))
    tuned = task.tune_postprocess(val_outs, truths, recipe, start, loaded=val_loaded)
    now = {**saved, **{k: tuned[k] for k in saved if k in tuned}}
    ideas: dict[str, dict[str, Any]] = {
        "run's postprocess.json (tuned before this change)": saved,
        "tuning now (thresholds, then the output shift)": now,
        "tuning now without the shift": {**now, "shift_y": 0.0, "shift_x": 0.0},
    }
    print("shift stage:", json.dumps({k: v for k, v in tuned.items() if k.startswith(("shift", "start_shift"))}))
    for name, params in ideas.items():
        val_seg = segmentation_score(truths, [interpret_output(o, recipe, params)["prediction"] for o in val_outs])
        tst = _tracked(task, source, test_loaded, test_outs, params)
        shown = {**params, "val_SEG": val_seg, **{f"test_{k}": tst.get(k) for k in ("TRA", "DET", "SEG", "LNK",
                                                                                    "BC(2)")},
                 "test_div_tp_fp_fn": [tst.get(f"division_{x}(2)") for x in ("tp", "fp", "fn")]}
        print(name, json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in shown.items()}),
              flush=True)


if __name__ == "__main__":
    main()

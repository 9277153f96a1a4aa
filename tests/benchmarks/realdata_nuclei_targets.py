"""Compare the instance targets (three_class, distance, star_convex) on one real nuclei image, same budget.

The 512x512 DSB2018 image in ../shared/realdata/dsb2018_one_image is cut as in ``realdata_dsb2018.py``: the
left half into 128x128 crops for training (6) and validation (2), the right half into two 256x256 test crops.
Every target trains the same U-Net with the same patches, augmentation, epochs and steps; post-processing
thresholds are tuned on the validation crops only. Each model is then scored on the validation crops and on
the test crops (F1@0.5 as in stardist.matching, merges and splits). Run by hand (not collected by pytest):

    nice -n 10 .venv/bin/python tests/benchmarks/realdata_nuclei_targets.py [--epochs 40] [--out /tmp/targets]
    nice -n 10 .venv/bin/python tests/benchmarks/realdata_nuclei_targets.py --speed   # NMS time on 1024x1024

``--rescore RUN`` tunes a finished run's thresholds again on its validation crops (e.g. after the tuning grid
changed) and scores it again. ``--speed`` times the star-convex target and post-processing on a 1024x1024
label image (the DSB mask tiled 2 x 2, about 500 nuclei) from a perfect prediction, and scores that prediction.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import tifffile

from tests.benchmarks.realdata_dsb2018 import REALDATA, recipe, write_layout

TARGETS = ("three_class", "distance", "star_convex")
KEYS = ("f1@0.5", "ap@0.5", "ap_mean", "mean_matched_iou", "merges", "splits", "n_true", "n_pred")


def speed() -> dict:
    """Seconds for the star-convex target and post-processing of a 1024x1024 image with ~500 nuclei."""
    from builder.tasks.metrics.instances import instance_metrics
    from builder.tasks.star_convex import star_convex_target
    from builder.tasks.star_nms import instances_from_star

    mask = tifffile.imread(REALDATA / "mask2d.tif").astype(np.int32)
    offset = int(mask.max())
    tiles = [np.where(mask > 0, mask + k * offset, 0) for k in range(4)]
    big = np.block([[tiles[0], tiles[1]], [tiles[2], tiles[3]]])
    start = time.perf_counter()
    target = star_convex_target(big)
    made = time.perf_counter() - start
    start = time.perf_counter()
    labels = instances_from_star(target, threshold=0.5, nms_threshold=0.4, min_size=0)
    post = time.perf_counter() - start
    m = instance_metrics([big], [labels])
    return {"image": list(big.shape), "objects": int(len(np.unique(big)) - 1), "target_s": round(made, 3),
            "postprocess_s": round(post, 3), "perfect_prediction": {k: m.get(k) for k in KEYS}}


def run_target(out: Path, target: str, epochs: int) -> dict:
    from builder.workflow.evaluate_job import evaluate_run
    from builder.workflow.train_job import train_recipe

    folder = out / target
    write_layout(folder)
    start = time.perf_counter()
    outcome = train_recipe(recipe(folder, epochs, target=target), runs_dir=folder / "runs", report=False,
                           export=False)
    seconds = time.perf_counter() - start
    validation = evaluate_run(outcome.run_dir, data=folder / "validation")
    tuned = json.loads((outcome.run_dir / "postprocess.json").read_text())
    return {"run": str(outcome.run_dir), "train_evaluate_s": round(seconds, 1),
            "epochs_run": len(json.loads((outcome.run_dir / "history.json").read_text())),
            "postprocess": {k: v for k, v in tuned.items() if k != "tried"},
            "validation": {k: validation["metrics"].get(k) for k in KEYS},
            "test": {k: outcome.metrics["metrics"].get(k) for k in KEYS}}


def rescore(run_dir: Path) -> dict:
    """Tune a finished run's post-processing again (current grid) on its validation crops; score both splits."""
    from builder.workflow.evaluate_job import evaluate_run

    saved = run_dir / "postprocess.json"
    if saved.exists():
        saved.rename(run_dir / "postprocess.before-rescore.json")
    test = evaluate_run(run_dir)  # no saved thresholds: tuned on the run's validation split first
    validation = evaluate_run(run_dir, data=run_dir.parents[1] / "validation")
    tuned = json.loads(saved.read_text())
    return {"run": str(run_dir), "postprocess": {k: v for k, v in tuned.items() if k != "tried"},
            "validation": {k: validation["metrics"].get(k) for k in KEYS},
            "test": {k: test["metrics"].get(k) for k in KEYS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("/tmp/cellwright-nuclei-targets"))
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--speed", action="store_true", help="Only time the star-convex post-processing.")
    parser.add_argument("--rescore", type=Path, help="A run folder of this script: tune and score it again.")
    args = parser.parse_args()
    if not REALDATA.is_dir():
        raise SystemExit(f"{REALDATA} is not present")
    if args.rescore:
        print(json.dumps(rescore(args.rescore), indent=2, default=float))
        return
    if args.speed:
        print(json.dumps(speed(), indent=2, default=float))
        return
    results = {}
    for target in args.targets:
        results[target] = run_target(args.out, target, args.epochs)
        print(json.dumps({target: results[target]}, indent=2, default=float), flush=True)
    table = [f"{'target':<12} {'val F1@0.5':>10} {'test F1@0.5':>11} {'merges':>6} {'splits':>6} {'seconds':>7}"]
    for target, r in results.items():
        table.append(f"{target:<12} {r['validation']['f1@0.5']:>10.3f} {r['test']['f1@0.5']:>11.3f} "
                     f"{r['test']['merges']:>6} {r['test']['splits']:>6} {r['train_evaluate_s']:>7.0f}")
    print("\n".join(table))


if __name__ == "__main__":
    main()

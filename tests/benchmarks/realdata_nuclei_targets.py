"""Compare the instance targets (three_class, distance, star_convex) on one real nuclei image, same budget.

The 512x512 DSB2018 image in ../shared/realdata/dsb2018_one_image is cut as in ``realdata_dsb2018.py``: the
left half into 128x128 crops for training (6) and validation (2), the right half into two 256x256 test crops.
Every target trains the same U-Net with the same patches, augmentation, epochs and steps; post-processing
thresholds are tuned on the validation crops only. Each model is then scored on the validation crops and on
the test crops (F1@0.5 as in stardist.matching, merges and splits). Run by hand (not collected by pytest):

    nice -n 10 .venv/bin/python tests/benchmarks/realdata_nuclei_targets.py [--epochs 40] [--out /tmp/targets]
    nice -n 10 .venv/bin/python tests/benchmarks/realdata_nuclei_targets.py --speed   # NMS time on 1024x1024
    nice -n 10 .venv/bin/python tests/benchmarks/realdata_nuclei_targets.py --example --steps 600
    nice -n 10 .venv/bin/python tests/benchmarks/realdata_nuclei_targets.py --example --time-budget 20m
    nice -n 10 .venv/bin/python tests/benchmarks/realdata_nuclei_targets.py --example --targets star_convex \
        --example-file OLD_EXAMPLE.yaml --seed 7

``--example`` trains with the settings of ``recipes/examples/nuclei_instances.yaml`` (patches, augmentation,
model, optimiser, headline-monitor checkpoint choice) on the same crops instead of the older benchmark recipe;
``--example-file`` takes the settings from another recipe (e.g. the example before a change) and ``--seed`` sets its
``train.seed``. ``--steps N`` trains exactly N steps (early stopping off, so every target gets the same steps) and
``--time-budget`` uses the example's ``train.time_budget`` mechanism with the given budget instead.

``--rescore RUN`` tunes a finished run's thresholds again on its validation crops (e.g. after the tuning grid
changed) and scores it again. ``--speed`` times the star-convex target and post-processing on a 1024x1024
label image (the DSB mask tiled 2 x 2, about 500 nuclei) from a perfect prediction, and scores that prediction.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np
import tifffile
import yaml

from tests.benchmarks.realdata_dsb2018 import REALDATA, recipe, write_layout

TARGETS = ("three_class", "distance", "star_convex")
EXAMPLE = Path(__file__).resolve().parents[2] / "recipes" / "examples" / "nuclei_instances.yaml"
#: Steps per epoch of the ``--example --steps`` runs (epochs = steps / this).
EXAMPLE_STEPS_PER_EPOCH = 20
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


def _cpu_s() -> float:
    """CPU seconds used by this process so far (all threads): comparable between runs on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def example_recipe(folder: Path, target: str, *, steps: int | None, time_budget: str | None,
                   source: Path = EXAMPLE, seed: int | None = None) -> Path:
    """The shipped example's recipe (or ``source``) on the crops in ``folder``: ``steps`` fixed steps, or
    ``time_budget``; ``seed`` sets ``train.seed``."""
    text = yaml.safe_load(source.read_text())
    text["data"] = {"layout": "folders", "root": str(folder), "masks": "masks", "split": {"mode": "folders"}}
    train = text["train"]
    train["instance_target"] = target
    train.pop("loss", None)
    if seed is not None:
        train["seed"] = seed
    if time_budget:
        train["time_budget"] = time_budget
        train["epochs"] = 1000
    else:
        train.pop("time_budget", None)
        train["steps_per_epoch"] = EXAMPLE_STEPS_PER_EPOCH
        train["epochs"] = max(1, round((steps or 600) / EXAMPLE_STEPS_PER_EPOCH))
        train["early_stopping"] = {**train.get("early_stopping", {}), "enabled": False}
    text["report"] = {"formats": ["html"]}
    path = folder / "example.yaml"
    path.write_text(yaml.safe_dump(text, sort_keys=False))
    return path


def run_target(out: Path, target: str, epochs: int, *, example: bool = False, steps: int | None = None,
               time_budget: str | None = None, source: Path = EXAMPLE, seed: int | None = None) -> dict:
    from builder.workflow.evaluate_job import evaluate_run
    from builder.workflow.train_job import train_recipe

    folder = out / target
    write_layout(folder)
    path = (example_recipe(folder, target, steps=steps, time_budget=time_budget, source=source, seed=seed) if example
            else recipe(folder, epochs, target=target))
    load_before = os.getloadavg()[0]
    start, cpu = time.perf_counter(), _cpu_s()
    outcome = train_recipe(path, runs_dir=folder / "runs", report=False, export=False)
    seconds, cpu = time.perf_counter() - start, _cpu_s() - cpu
    load_after = os.getloadavg()[0]
    validation = evaluate_run(outcome.run_dir, data=folder / "validation")
    tuned = json.loads((outcome.run_dir / "postprocess.json").read_text())
    history = json.loads((outcome.run_dir / "history.json").read_text())
    state = json.loads((outcome.run_dir / "state.json").read_text()) if (outcome.run_dir / "state.json").exists() \
        else {}
    return {"run": str(outcome.run_dir), "train_evaluate_s": round(seconds, 1), "train_evaluate_cpu_s": round(cpu),
            "load_1min": [round(load_before, 1), round(load_after, 1)],
            "epochs_run": len(history), "steps_per_epoch": state.get("steps_per_epoch"),
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
    parser.add_argument("--example", action="store_true", help="Train with the shipped example's settings.")
    parser.add_argument("--steps", type=int, default=600, help="With --example: training steps (fixed).")
    parser.add_argument("--time-budget", help="With --example: train for this long instead (e.g. 20m).")
    parser.add_argument("--example-file", type=Path, default=EXAMPLE,
                        help="With --example: take the settings from this recipe instead (e.g. an older example).")
    parser.add_argument("--seed", type=int, help="With --example: train.seed.")
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
        results[target] = run_target(args.out, target, args.epochs, example=args.example, steps=args.steps,
                                     time_budget=args.time_budget, source=args.example_file, seed=args.seed)
        print(json.dumps({target: results[target]}, indent=2, default=float), flush=True)
    table = [f"{'target':<12} {'val AP@0.5':>10} {'val F1@0.5':>10} {'test F1@0.5':>11} {'merges':>6} {'splits':>6} "
             f"{'epochs':>6} {'seconds':>7} {'CPU s':>6} {'load':>9}"]
    for target, r in results.items():
        table.append(f"{target:<12} {r['validation']['ap@0.5']:>10.3f} {r['validation']['f1@0.5']:>10.3f} "
                     f"{r['test']['f1@0.5']:>11.3f} {r['test']['merges']:>6} {r['test']['splits']:>6} "
                     f"{r['epochs_run']:>6} {r['train_evaluate_s']:>7.0f} {r['train_evaluate_cpu_s']:>6} "
                     f"{r['load_1min'][0]:>4}-{r['load_1min'][1]:<4}")
    print("\n".join(table))


if __name__ == "__main__":
    main()

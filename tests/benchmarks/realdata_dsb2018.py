"""Train the nuclei instance-segmentation example on one real image and compare with a classical baseline.

The 512x512 DSB2018 image in ../shared/realdata/dsb2018_one_image is split by columns: the left half is cut
into 128x128 crops for training (6) and validation (2), the right half into two 256x256 test crops that the
model never sees. The same test crops are segmented by Otsu threshold + distance-transform watershed
(scikit-image). Run by hand (not collected by pytest):

    .venv/bin/python tests/benchmarks/realdata_dsb2018.py [--epochs 40] [--out /tmp/dsb]
        [--target three_class|distance|star_convex] [--diameter 23.7 --target-diameter 15] [--patch 64] [--seed 42]
        [--grid 2]

``--diameter D`` sets ``preprocess.object_diameter: D`` (the nuclei in this image have a median diameter of 23.7 px)
and ``--target-diameter T`` its ``target_diameter`` (the network then works at ``T / D`` of the resolution); compare
object scales with a patch covering the same image area (``--patch`` about 64 * T / 15, a multiple of 8). Besides
the test scores, the validation images are scored with the run's tuned post-processing (settings are chosen on
these; the test crops are for the final comparison only). Arms compared on a shared machine should use the same
``--epochs`` (the same number of steps), not wall-clock budgets. ``--grid 2`` sets the U-Net's ``grid: 2``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import tifffile
import yaml

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "dsb2018_one_image"


def write_layout(out: Path) -> Path:
    image = tifffile.imread(REALDATA / "img2d.tif")
    mask = tifffile.imread(REALDATA / "mask2d.tif")
    crops = {"train": [], "validation": [], "test": []}
    left = [(r, c) for r in range(0, 512, 128) for c in range(0, 256, 128)]
    for i, (r, c) in enumerate(left):
        crops["validation" if i in (3, 4) else "train"].append((slice(r, r + 128), slice(c, c + 128)))
    crops["test"] = [(slice(0, 256), slice(256, 512)), (slice(256, 512), slice(256, 512))]
    for split, windows in crops.items():
        for folder in ("images", "masks"):
            (out / split / folder).mkdir(parents=True, exist_ok=True)
        for i, window in enumerate(windows):
            tifffile.imwrite(out / split / "images" / f"crop{i}.tif", image[window])
            tifffile.imwrite(out / split / "masks" / f"crop{i}.tif", mask[window].astype(np.uint16))
    return out


STRONG_AUGMENT = {"rotate": 180.0, "scale": 0.2, "elastic": 4.0, "gamma": 0.2, "gaussian_noise": 0.02}


def recipe(out: Path, epochs: int, *, target: str = "three_class", strong: bool = False, filters: int = 16,
           diameter: float = 0.0, target_diameter: float = 15.0, patch: int = 64, seed: int = 42,
           grid: int = 1) -> Path:
    scale = {"object_diameter": diameter, "target_diameter": target_diameter} if diameter else {}
    text = {
        "cellwright": 1, "name": "dsb2018-one-image", "task": "instance_segmentation",
        "description": "Nuclei instance segmentation trained on the left half of one DSB2018 image.",
        "data": {"layout": "folders", "root": str(out), "masks": "masks", "split": {"mode": "folders"}},
        "preprocess": {**scale, "patch": {"size": patch, "per_image": 16, "foreground_fraction": 0.7},
                       "tile": {"size": 128, "overlap": 16}},
        "augment": {"flip": True, "rotate90": True, "brightness": 0.1, "contrast": 0.1,
                    **(STRONG_AUGMENT if strong else {})},
        "model": {"template": "unet", "params": {"depth": 3, "base_filters": filters,
                                                **({"grid": grid} if grid != 1 else {})}},
        "train": {"epochs": epochs, "batch_size": 16, "optimizer": {"learning_rate": 0.002},
                  "instance_target": target, "seed": seed,
                  "early_stopping": {"patience": max(5, epochs // 4)}},
        "report": {"formats": ["html", "pdf"]},
        "export": {"formats": ["bundle"]},
    }
    path = out / "dsb2018.yaml"
    path.write_text(yaml.safe_dump(text, sort_keys=False))
    return path


def baseline(out: Path) -> dict:
    from builder.tasks.classical import classical_instances
    from builder.tasks.metrics.instances import instance_metrics

    truths, preds = [], []
    for path in sorted((out / "test" / "images").glob("*.tif")):
        truths.append(tifffile.imread(out / "test" / "masks" / path.name))
        preds.append(classical_instances(tifffile.imread(path)))
    return instance_metrics(truths, preds)


def validation_scores(run_dir: Path) -> dict:
    """The run's best checkpoint scored on its validation crops with its tuned post-processing."""
    from builder.data.layouts import discover
    from builder.workflow.evaluate_job import evaluate_model
    from builder.workflow.model_source import open_model_source

    source = open_model_source(run_dir)
    samples = discover(source.recipe, source.recipe.base_dir).splits["validation"]
    metrics = evaluate_model(source.model, source.recipe, samples, norm_stats=source.normalization,
                             postprocess=source.postprocess, split="validation")
    return metrics["metrics"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("/tmp/cellwright-dsb2018"))
    parser.add_argument("--target", choices=["three_class", "distance", "star_convex"], default="three_class")
    parser.add_argument("--diameter", type=float, default=0.0, help="preprocess.object_diameter (0: not set)")
    parser.add_argument("--target-diameter", type=float, default=15.0, help="preprocess.target_diameter")
    parser.add_argument("--patch", type=int, default=64, help="preprocess.patch.size")
    parser.add_argument("--seed", type=int, default=42, help="train.seed")
    parser.add_argument("--grid", type=int, choices=(1, 2), default=1, help="the U-Net's grid parameter")
    parser.add_argument("--strong-augment", action="store_true", help="Add rotation, scaling, elastic, gamma, noise.")
    parser.add_argument("--filters", type=int, default=16, help="U-Net base filters.")
    args = parser.parse_args()
    if not REALDATA.is_dir():
        raise SystemExit(f"{REALDATA} is not present")
    from builder.training.progress import ProgressPrinter
    from builder.workflow.train_job import train_recipe

    out = write_layout(args.out)
    start = time.time()
    path = recipe(out, args.epochs, target=args.target, strong=args.strong_augment, filters=args.filters,
                  diameter=args.diameter, target_diameter=args.target_diameter, patch=args.patch, seed=args.seed,
                  grid=args.grid)
    outcome = train_recipe(path, runs_dir=out / "runs", events=ProgressPrinter())
    keys = ("ap@0.5", "f1@0.5", "mean_matched_iou", "panoptic_quality", "ap_mean", "merges", "splits")
    model = {k: outcome.metrics["metrics"].get(k) for k in keys}
    classical = {k: baseline(out).get(k) for k in keys}
    validation = {k: validation_scores(outcome.run_dir).get(k) for k in keys}
    settings = {"epochs": args.epochs, "target": args.target, "strong_augment": args.strong_augment,
                "filters": args.filters, "diameter": args.diameter, "target_diameter": args.target_diameter,
                "patch": args.patch, "seed": args.seed, "grid": args.grid,
                "epochs_completed": outcome.epochs_completed}
    print(json.dumps({"run": str(outcome.run_dir), "settings": settings,
                      "minutes": round((time.time() - start) / 60, 1),
                      "unet_validation": validation, "unet": model, "otsu_watershed": classical},
                     indent=2, default=float))


if __name__ == "__main__":
    main()

"""Prediction speed per 1024 x 1344 nuclei image after start-up, and the start-up itself (run by hand).

    PYTHONPATH=$PWD .venv/bin/python tests/benchmarks/bench_predict_speed.py [--images 6] [--diameter 0] [--target 30]

The DSB2018 image in ../shared/realdata/dsb2018_one_image (512 x 512) is tiled up (mirrored) to 1024 x 1344 and
saved as ``--images`` copies with different noise. A run folder holds the nuclei example's network (U-Net, depth 3,
16 filters, instance segmentation with the three-class target; random weights: speed does not depend on them) and
the example's recipe. A fresh Python process then:

* start-up: imports Cellwright and TensorFlow and opens the model (what every ``cellwright predict`` pays once);
* first image: ``predict_paths`` on one image (includes TensorFlow's first-call tracing);
* per image: ``predict_paths`` on all images, divided by their number (the steady state of a running worker).

``--diameter D`` sets ``preprocess.object_diameter: D`` in the run's recipe (the nuclei in this image have a
median diameter of 23.7 px) and ``--target T`` its ``target_diameter``: the network then runs at ``T / D`` of the
resolution. The numbers are wall-clock seconds
on whatever machine runs this (a shared CPU gives noisy numbers; say so when you quote them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "dsb2018_one_image"
SHAPE = (1024, 1344)


def write_images(folder: Path, n: int) -> list[Path]:
    """``n`` uint16 1024 x 1344 images: the DSB image mirrored to size, plus a little noise per copy."""
    import tifffile

    base = tifffile.imread(REALDATA / "img2d.tif").astype(np.float32)
    if base.ndim == 3:
        base = base[..., :3].mean(axis=-1)
    reps = (-(-SHAPE[0] // base.shape[0]), -(-SHAPE[1] // base.shape[1]))
    tiled = np.block([[base[:, ::1 - 2 * (j % 2)][::1 - 2 * (i % 2)] for j in range(reps[1])]
                      for i in range(reps[0])])[: SHAPE[0], : SHAPE[1]]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        noisy = tiled + np.random.default_rng(i).normal(0, 2, tiled.shape)
        paths.append(folder / f"img{i}.tif")
        tifffile.imwrite(paths[-1], np.clip(noisy * 16, 0, 65535).astype(np.uint16))
    return paths


def write_run(run: Path, diameter: float, target: float) -> None:
    """A run folder with the nuclei example's (untrained) network and recipe."""
    import yaml

    from builder.compile import compile_recipe_model
    from builder.recipe import dump_recipe, recipe_from_dict

    example = Path(__file__).resolve().parents[2] / "recipes" / "examples" / "nuclei_instances.yaml"
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    data["data"] = {"layout": "folders", "root": ".", "masks": "masks"}
    if diameter:
        data["preprocess"]["object_diameter"] = diameter
        data["preprocess"]["target_diameter"] = target
    recipe = recipe_from_dict(data)
    model = compile_recipe_model(recipe, (None, None, 1))
    (run / "checkpoints").mkdir(parents=True)
    model.save(run / "checkpoints" / "best.keras")
    (run / "recipe.yaml").write_text(dump_recipe(recipe, full=True), encoding="utf-8")
    (run / "normalization.json").write_text(json.dumps({"normalize": None, "target_normalize": None}))


def child(run: str, images: list[str], out: str) -> None:
    """In a fresh process: time start-up, the first image, then all images; print JSON."""
    t0 = time.perf_counter()
    from builder.workflow.model_source import open_model_source
    from builder.workflow.predict_job import predict_paths

    source = open_model_source(run)
    startup = time.perf_counter() - t0
    t1 = time.perf_counter()
    predict_paths(source, images[:1], out + "/first", force=True)
    first = time.perf_counter() - t1
    t2 = time.perf_counter()
    predict_paths(source, images, out + "/all", force=True)
    total = time.perf_counter() - t2
    print(json.dumps({"startup_s": startup, "first_image_s": first, "per_image_s": total / len(images),
                      "n_images": len(images)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--diameter", type=float, default=0.0, help="preprocess.object_diameter (0: not set)")
    parser.add_argument("--target", type=float, default=30.0, help="preprocess.target_diameter (with --diameter)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[2:], args.child[1])
        return
    root = Path(tempfile.mkdtemp(prefix="cw-bench-speed-"))
    try:
        write_run(root / "run", args.diameter, args.target)
        images = write_images(root / "images", args.images)
        env = {**os.environ, "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "2"}
        proc = subprocess.run([sys.executable, __file__, "--child", str(root / "run"), str(root / "out"),
                               *map(str, images)], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.exit(f"predict failed:\n{proc.stderr[-3000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{SHAPE[0]}x{SHAPE[1]}, {r['n_images']} images, object_diameter={args.diameter or 'not set'}"
              f"{f' target_diameter={args.target:g}' if args.diameter else ''}: "
              f"start-up {r['startup_s']:.2f} s, first image {r['first_image_s']:.2f} s, "
              f"per image after start-up {r['per_image_s']:.2f} s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

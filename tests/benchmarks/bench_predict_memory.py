"""Peak memory of ``cellwright predict`` on very large images (run by hand, not collected by pytest).

    PYTHONPATH=$PWD .venv/bin/python tests/benchmarks/bench_predict_memory.py [--sizes 8192 20000] [--tile 512]

For each size N it writes an N x N uint16 TIFF (strip by strip, so this script stays small), saves a tiny real
Keras segmentation model (3x3 conv, 4 filters -> 1x1 conv, 2-class softmax) as a run folder, and runs the real
predict job (``predict_paths``: read, per-image percentile normalisation, tiled prediction, probability and mask
TIFFs written) in a fresh Python process. That process reports its peak resident memory (``ru_maxrss``, which
includes TensorFlow itself) and the wall time; this script prints one line per size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_image(path: Path, size: int, rows: int = 256) -> None:
    """An N x N uint16 image of bright disks on a noisy background, written in strips of ``rows`` rows."""
    import tifffile

    def strips():
        rng = np.random.default_rng(0)
        xx = np.arange(size)
        for y in range(0, size, rows):
            yy = np.arange(y, min(y + rows, size))[:, None]
            disks = (((yy % 64) - 32) ** 2 + ((xx % 64) - 32) ** 2 < 18 ** 2)
            yield (100 + 800 * disks + rng.integers(0, 50, disks.shape)).astype(np.uint16).tobytes()

    tifffile.imwrite(path, strips(), shape=(size, size), dtype=np.uint16, rowsperstrip=rows)


def write_run(run: Path, tile: int) -> None:
    """A run folder with a tiny conv model and a segmentation recipe (per-image percentile normalisation)."""
    import keras

    from builder.recipe import dump_recipe, recipe_from_dict

    keras.utils.set_random_seed(0)
    inp = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    out = keras.layers.Conv2D(2, 1, activation="softmax")(x)
    (run / "checkpoints").mkdir(parents=True)
    keras.Model(inp, out).save(run / "checkpoints" / "best.keras")
    recipe = recipe_from_dict({
        "name": "bench-memory", "task": "segmentation", "data": {"root": ".", "masks": "masks"},
        "preprocess": {"normalize": {"method": "percentile"}, "tile": {"size": tile, "overlap": 32}},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 4}},
    })
    (run / "recipe.yaml").write_text(dump_recipe(recipe, full=True), encoding="utf-8")
    (run / "normalization.json").write_text(json.dumps({"normalize": None, "target_normalize": None}))


def child(run: str, image: str, out: str) -> None:
    """Run in a fresh process: predict, then print peak RSS (bytes) and seconds as JSON."""
    from builder.workflow.predict_job import predict_paths

    start = time.perf_counter()
    predict_paths(run, [image], out, force=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(json.dumps({"peak_bytes": peak, "seconds": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8192, 20000])
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--child", nargs=3, metavar=("RUN", "IMAGE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    root = Path(tempfile.mkdtemp(prefix="cw-bench-mem-"))
    try:
        write_run(root / "run", args.tile)
        for size in args.sizes:
            image = root / f"img{size}.tif"
            write_image(image, size)
            env = {**os.environ, "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "2"}
            proc = subprocess.run([sys.executable, __file__, "--child", str(root / "run"), str(image),
                                   str(root / f"out{size}")], capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                sys.exit(f"predict failed for {size}x{size}:\n{proc.stderr[-3000:]}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{size}x{size} uint16 ({size * size * 2 / 1e9:.2f} GB raw): peak RSS "
                  f"{result['peak_bytes'] / 1e9:.2f} GB, {result['seconds']:.0f} s", flush=True)
            image.unlink()
            shutil.rmtree(root / f"out{size}", ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

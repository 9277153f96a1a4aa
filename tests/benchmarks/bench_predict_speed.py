"""Prediction speed per 1024 x 1344 nuclei image after start-up, and the start-up itself (run by hand).

    PYTHONPATH=$PWD .venv/bin/python tests/benchmarks/bench_predict_speed.py [--images 6] [--diameter 0] [--target 30]
        [--profile] [--serve] [--engine keras|onnx] [--grid 2] [--run RUN]

The DSB2018 image in ../shared/realdata/dsb2018_one_image (512 x 512) is tiled up (mirrored) to 1024 x 1344 and
saved as ``--images`` copies with different noise. A run folder holds the nuclei example's network (U-Net, depth 3,
16 filters, instance segmentation with the three-class target; random weights: speed does not depend on them) and
the example's recipe. A fresh Python process then:

* start-up: imports Cellwright and TensorFlow and opens the model (what every ``cellwright predict`` pays once);
* first image: ``predict_paths`` on one image (includes TensorFlow's first-call tracing);
* per image: ``predict_paths`` on all images, divided by their number (the steady state of a running worker).

``--profile`` also times the stages of one image after warm-up (median of 3: read, normalise, network, back to
full size, post-processing, measurements, TIFF and CSV writing). ``--serve`` measures the app's worker instead:
``cellwright serve RUN`` is started, its start-up is the time until the model is loaded, then one request predicts
the first image (first-call tracing) and one request all images (per image after start-up). Per image, the CPU
seconds of the predicting process are printed too (for start-up: its CPU seconds from process start to the model
loaded): on a busy machine they vary less than the wall-clock time.

``--engine onnx`` writes the run's ONNX copy (``model.onnx``, as training does) and predicts with ONNX Runtime:
the child then never imports TensorFlow (it says so: ``tensorflow imported: False``); ``--engine keras`` (the
default) loads the Keras checkpoint as before.

``--diameter D`` sets ``preprocess.object_diameter: D`` in the run's recipe (the nuclei in this image have a
median diameter of 23.7 px) and ``--target T`` its ``target_diameter``: the network then runs at ``T / D`` of the
resolution. ``--grid 2`` sets the U-Net's ``grid: 2`` (the U-Net at half of that resolution after one
full-resolution block). ``--run RUN`` times a trained run folder instead (e.g. one that
``realdata_dsb2018.py`` trained; its recipe's settings apply and the other options are ignored): its network
finds the nuclei, so the per-image time includes their post-processing. The numbers are wall-clock seconds
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


def write_run(run: Path, diameter: float, target: float, engine: str = "keras", grid: int = 1) -> None:
    """A run folder with the nuclei example's (untrained) network and recipe (and its ONNX copy unless
    ``engine`` is keras)."""
    import keras
    import yaml

    from builder.compile import compile_recipe_model
    from builder.recipe import dump_recipe, recipe_from_dict

    example = Path(__file__).resolve().parents[2] / "recipes" / "examples" / "nuclei_instances.yaml"
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    data["data"] = {"layout": "folders", "root": ".", "masks": "masks"}
    if diameter:
        data["preprocess"]["object_diameter"] = diameter
        data["preprocess"]["target_diameter"] = target
    if grid != 1:
        data["model"]["params"]["grid"] = grid
    recipe = recipe_from_dict(data)
    keras.utils.set_random_seed(0)  # the same untrained network (and its output) in every run
    model = compile_recipe_model(recipe, (None, None, 1))
    (run / "checkpoints").mkdir(parents=True)
    model.save(run / "checkpoints" / "best.keras")
    (run / "recipe.yaml").write_text(dump_recipe(recipe, full=True), encoding="utf-8")
    (run / "normalization.json").write_text(json.dumps({"normalize": None, "target_normalize": None}))
    if engine != "keras":
        from builder.workflow.onnx_cache import FRESH, ensure_copy

        state = ensure_copy(run, model, recipe=recipe)
        assert state.status == FRESH, state


def copy_run(source: Path, run: Path, engine: str) -> None:
    """A copy of a trained run folder (checkpoint, recipe, normalisation, tuned post-processing), with its ONNX
    copy written unless ``engine`` is keras."""
    shutil.copytree(source, run, ignore=shutil.ignore_patterns("predictions*", "report*", "export*", "*.onnx"))
    if engine != "keras":
        from builder.workflow.model_source import open_model_source
        from builder.workflow.onnx_cache import FRESH, ensure_copy

        keras_source = open_model_source(str(run), engine="keras")
        state = ensure_copy(run, keras_source.model, recipe=keras_source.recipe)
        assert state.status == FRESH, state


def _median_time(fn, repeats: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def profile(source, image_path: str, out: str) -> dict[str, float]:
    """Seconds per stage of one image (median of 3), after a warm-up prediction."""
    from builder.data.writers import label_dtype, write_tiff
    from builder.tasks import get_task
    from builder.tasks.measure import measure_objects, write_objects_csv
    from builder.workflow.inference import (
        interpret_output,
        network_output,
        postprocess_settings,
        prepare,
        to_image_grid,
    )
    from builder.workflow.predict_job import _read_for_model

    recipe = source.recipe
    folder = Path(out) / "profile"
    folder.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    times["read"], image = _median_time(lambda: _read_for_model(Path(image_path), source, channels=None,
                                                                project=None))
    raw = image.array
    diameter = None  # a run trained with object_diameter: auto predicts at the diameter it measured
    if recipe.preprocess.object_diameter is not None:
        from builder.data.object_scale import training_diameter

        diameter = training_diameter(recipe.preprocess, source.normalization)
    times["normalise"], (x, _used) = _median_time(lambda: prepare(raw, recipe, model=source.model,
                                                                  diameter=diameter))
    network_output(source.model, x, recipe, coarse=True)  # warm-up (tracing)
    # as predict runs it: a grid network's output before its final repeat where post-processing reads that
    times["network"], output = _median_time(lambda: network_output(source.model, x, recipe, coarse=True))
    times["to_full_size"] = 0.0
    if x.shape[:2] != raw.shape[:2] or not isinstance(output, np.ndarray):  # star: a ZoomedOutput, nothing to do
        grid_out = output
        times["to_full_size"], output = _median_time(lambda: to_image_grid(grid_out, raw.shape[:2], x.shape[:2],
                                                                           recipe))
    params = postprocess_settings(recipe, source.postprocess)
    times["postprocess"], result = _median_time(lambda: interpret_output(output, recipe, params))
    labels = result["labels"]
    times["measure"], objects = _median_time(lambda: measure_objects(labels, raw, pixel_size=None, shape=False))
    times["write_tiff"], _ = _median_time(lambda: write_tiff(folder / "a_labels.tif",
                                                             labels.astype(label_dtype(labels)), None))
    times["write_csv"], _ = _median_time(lambda: write_objects_csv(objects, folder / "a_objects.csv"))
    times["objects"] = float(len(objects))
    assert get_task(recipe.task).pixel_output
    # the untrained network finds few objects: post-process and measure a nuclei-like output as well (the
    # target of the real mask, mirrored to size like the image)
    # the perfect output on the network's grid (the mask shrunk like the image), brought back like the network's
    truth_grid = nuclei_output(x.shape[:2], recipe.train.instance_target)
    repeat = getattr(output, "repeat", 1)
    if repeat > 1:  # a grid network's output before its repeat: the target sampled once per block
        from builder.tasks.zoomed_output import CoarseOutput

        truth_grid = CoarseOutput(truth_grid[::repeat, ::repeat], repeat, x.shape[:2])
    times["to_full_size_nuclei"], truth = _median_time(lambda: to_image_grid(truth_grid, raw.shape[:2],
                                                                            x.shape[:2], recipe))
    times["postprocess_nuclei"], result = _median_time(lambda: interpret_output(truth, recipe, params))
    times["measure_nuclei"], objects = _median_time(lambda: measure_objects(result["labels"], raw, shape=False))
    times["nuclei"] = float(len(objects))
    return times


def nuclei_output(shape: tuple[int, int], target: str = "three_class") -> np.ndarray:
    """The real DSB mask mirrored to the images' size and shrunk to ``shape`` (the network's grid), as the network
    would ideally output it: (Y, X, 3) one-hot
    background/boundary/interior, or for ``star_convex`` (Y, X, 33) object probability and ray lengths."""
    import tifffile

    from builder.tasks.instances import three_class_target

    mask = tifffile.imread(REALDATA / "mask2d.tif")
    reps = (-(-SHAPE[0] // mask.shape[0]), -(-SHAPE[1] // mask.shape[1]))
    tiled = np.block([[mask[:, ::1 - 2 * (j % 2)][::1 - 2 * (i % 2)] for j in range(reps[1])]
                      for i in range(reps[0])])[: SHAPE[0], : SHAPE[1]]
    if tuple(shape) != SHAPE:  # the network's grid at object scale: the mask shrunk like the image
        from builder.data.preprocess import resize_yx

        tiled = resize_yx(tiled, shape, order=0)
    if target == "star_convex":
        from builder.tasks.star_convex import star_convex_target

        return np.maximum(star_convex_target(tiled.astype(np.int64)), 0.0)  # rays cut by the edge: length 0
    return np.eye(3, dtype=np.float32)[three_class_target(tiled.astype(np.int64))]


def child(run: str, images: list[str], out: str, do_profile: bool = False, engine: str = "keras") -> None:
    """In a fresh process: time start-up, the first image, then all images; print JSON."""
    t0 = time.perf_counter()
    from builder.workflow.model_source import open_model_source
    from builder.workflow.predict_job import predict_paths

    source = open_model_source(run, engine=engine)
    assert source.engine == engine, source.engine_reason
    startup = time.perf_counter() - t0
    startup_cpu = time.process_time()  # CPU seconds of this process so far: interpreter, imports, model
    t1 = time.perf_counter()
    predict_paths(source, images[:1], out + "/first", force=True)
    first = time.perf_counter() - t1
    t2, cpu = time.perf_counter(), time.process_time()
    predict_paths(source, images, out + "/all", force=True)
    total = time.perf_counter() - t2
    result = {"startup_s": startup, "startup_cpu_s": startup_cpu, "first_image_s": first,
              "per_image_s": total / len(images),
              "cpu_per_image_s": (time.process_time() - cpu) / len(images), "n_images": len(images),
              "tensorflow": "tensorflow" in sys.modules, "engine": source.engine}
    if do_profile:
        result["profile"] = profile(source, images[0], out)
    print(json.dumps(result))


def served(run: Path, images: list[Path], out: Path, env: dict[str, str], engine: str = "keras"
           ) -> dict[str, float]:
    """``cellwright serve``: seconds to the model loaded, the first request (one image), then all images."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "builder.cli.main", "serve", str(run), "--engine", engine],
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
    assert proc.stdin is not None and proc.stdout is not None

    def wait_for(predicate) -> dict:
        for line in proc.stdout:
            if line.startswith("{"):
                event = json.loads(line)
                if event.get("event") == "error":
                    sys.exit(f"serve failed: {event}")
                if predicate(event):
                    return event
        sys.exit(f"serve ended early (exit code {proc.wait()})")

    def ask(rid: str, paths: list[Path]) -> float:
        t = time.perf_counter()
        proc.stdin.write(json.dumps({"id": rid, "images": [str(p) for p in paths], "out": str(out / rid),
                                     "force": True}) + "\n")
        proc.stdin.flush()
        done = wait_for(lambda e: e.get("event") == "done" and e.get("request") == rid)
        assert done["code"] == 0 and done["loads"] == 1, done
        return time.perf_counter() - t

    loaded = wait_for(lambda e: e.get("kind") == "model_loaded")
    startup = time.perf_counter() - t0
    startup_cpu = sum(psutil.Process(proc.pid).cpu_times()[:2])
    first = ask("first", images[:1])
    cpu = sum(psutil.Process(proc.pid).cpu_times()[:2])
    total = ask("all", images)
    cpu = sum(psutil.Process(proc.pid).cpu_times()[:2]) - cpu
    proc.stdin.close()
    proc.wait(timeout=60)
    return {"startup_s": startup, "startup_cpu_s": startup_cpu, "first_image_s": first,
            "per_image_s": total / len(images), "cpu_per_image_s": cpu / len(images), "n_images": len(images),
            "engine": loaded.get("engine")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--diameter", type=float, default=0.0, help="preprocess.object_diameter (0: not set)")
    parser.add_argument("--target", type=float, default=30.0, help="preprocess.target_diameter (with --diameter)")
    parser.add_argument("--profile", action="store_true", help="also time the stages of one image")
    parser.add_argument("--serve", action="store_true", help="measure the app's worker (cellwright serve)")
    parser.add_argument("--engine", choices=("keras", "onnx"), default="keras",
                        help="what runs the network (onnx: the run's ONNX copy, written first)")
    parser.add_argument("--grid", type=int, choices=(1, 2), default=1, help="the U-Net's grid parameter")
    parser.add_argument("--run", type=Path, help="time this trained run folder (copied; its recipe as trained) "
                        "instead of an untrained network")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[2:], args.child[1], do_profile=args.profile, engine=args.engine)
        return
    root = Path(tempfile.mkdtemp(prefix="cw-bench-speed-"))
    try:
        if args.run:
            copy_run(args.run, root / "run", args.engine)
        else:
            write_run(root / "run", args.diameter, args.target, args.engine, args.grid)
        images = write_images(root / "images", args.images)
        env = {**os.environ, "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "2"}
        if args.serve:
            r = served(root / "run", images, root / "out", env, args.engine)
        else:
            proc = subprocess.run([sys.executable, __file__, *(["--profile"] if args.profile else []),
                                   "--engine", args.engine, "--child",
                                   str(root / "run"), str(root / "out"), *map(str, images)],
                                  capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                sys.exit(f"predict failed:\n{proc.stderr[-3000:]}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
        tf_note = f" (tensorflow imported: {r['tensorflow']})" if "tensorflow" in r else ""
        setting = (f"trained run {args.run}" if args.run else
                   f"object_diameter={args.diameter or 'not set'}"
                   f"{f' target_diameter={args.target:g}' if args.diameter else ''}"
                   f"{f' grid={args.grid}' if args.grid != 1 else ''}")
        print(f"{SHAPE[0]}x{SHAPE[1]}, {r['n_images']} images, {setting}"
              f"{', served worker (cellwright serve)' if args.serve else ''}, engine {r.get('engine')}"
              f"{tf_note}: "
              f"start-up {r['startup_s']:.2f} s ({r['startup_cpu_s']:.2f} CPU s), "
              f"first image {r['first_image_s']:.2f} s, "
              f"per image after start-up {r['per_image_s']:.2f} s ({r['cpu_per_image_s']:.2f} CPU s)", flush=True)
        if "profile" in r:
            stages = r["profile"]
            n, nuclei = int(stages.pop("objects")), int(stages.pop("nuclei"))
            print(f"one image ({n} objects; nuclei-like output: {nuclei} objects), seconds per stage: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in stages.items()), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

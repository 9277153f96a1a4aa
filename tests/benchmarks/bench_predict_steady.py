"""Per-image CPU and wall seconds of ``predict_paths`` in the steady state of a running worker (run by hand).

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python tests/benchmarks/bench_predict_steady.py [--network unet|conv]
        [--images 4] [--engine keras|onnx] [--keep FOLDER]

``bench_predict_speed.py`` times its batch right after a one-image warm-up, so its per-image figure includes
TensorFlow tracing the new batch size once. Here the same images are predicted once as a warm-up (every batch
shape traced), then three more times (median per image). The images are those of ``bench_predict_speed.py``
(1024 x 1344, DSB2018 mirrored) at the nuclei example's object scale (``object_diameter: 23.7``,
``target_diameter: 15``). ``--network unet`` is the example's untrained U-Net (finds one object per image);
``--network conv`` is a fixed 5 x 5 convolution + softmax that turns bright blobs into interior and their rims
into boundary, so the post-processing and measurements see about 300 nuclei per image while the network costs
almost nothing: the time left is what Cellwright spends around the network. ``--keep`` keeps the run folder,
images and the last predictions (to compare the outputs of two code versions). ``--engine onnx`` writes the run's
ONNX copy and predicts with ONNX Runtime (see ``bench_predict_speed.py``).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.benchmarks import bench_predict_speed as speed


def conv_network(run: Path) -> None:
    """Replace the run's network with a fixed convolution that outputs nuclei-like three-class probabilities."""
    import keras

    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(3, 5, padding="same")
    model = keras.Model(inputs, keras.layers.Softmax()(conv(inputs)))
    offsets = (np.arange(5) - 2) ** 2
    blur = np.exp(-(offsets[:, None] + offsets[None, :]) / 2.0)
    blur /= blur.sum()
    kernel = np.zeros((5, 5, 1, 3), np.float32)
    kernel[..., 0, 1], kernel[..., 0, 2] = 7 * blur, 14 * blur  # boundary, interior: smoothed brightness
    conv.set_weights([kernel, np.array([0.0, -2.2, -7.0], np.float32)])  # background wins on dark pixels
    model.save(run / "checkpoints" / "best.keras")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", choices=("unet", "conv"), default="unet")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--engine", choices=("keras", "onnx"), default="keras")
    parser.add_argument("--keep", type=Path, help="keep the run, images and predictions in this folder")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="cw-bench-steady-"))
    try:
        if not (root / "run").exists():
            speed.write_run(root / "run", 23.7, 15)
            if args.network == "conv":
                conv_network(root / "run")
            speed.write_images(root / "images", args.images)
        if args.engine == "onnx":
            import keras

            from builder.workflow.onnx_cache import ensure_copy

            ensure_copy(root / "run", keras.models.load_model(root / "run" / "checkpoints" / "best.keras"))
        from builder.workflow.model_source import open_model_source
        from builder.workflow.predict_job import predict_paths

        source = open_model_source(root / "run", engine=args.engine)
        paths = sorted(str(p) for p in (root / "images").glob("*.tif"))
        predict_paths(source, paths, root / "warm-up", force=True)
        walls, cpus, objects = [], [], 0
        for _ in range(3):
            start, cpu = time.perf_counter(), time.process_time()
            summary = predict_paths(source, paths, root / "predictions", force=True)
            walls.append((time.perf_counter() - start) / len(paths))
            cpus.append((time.process_time() - cpu) / len(paths))
            objects = sum(row.get("objects", 0) for row in summary["images"])
        print(f"{len(paths)} images, {args.network} network ({source.engine}), {objects} objects: per image "
              f"{np.median(walls):.3f} s wall, {np.median(cpus):.3f} CPU s (median of 3 after a warm-up on the same "
              "images)", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

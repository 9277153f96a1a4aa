"""What a cheaper star-convex network would cost and lose: network time by architecture and object scale (run by hand).

    PYTHONPATH=$PWD .venv/bin/python tests/benchmarks/bench_star_scale.py [--repeats 5] [--skip-speed] [--skip-ceiling]

Two measurements for a 1024 x 1344 nuclei image whose nuclei are 23.7 px across (the DSB2018 image):

* speed: the network alone, run by ONNX Runtime (as ``cellwright predict`` does), random weights, for the nuclei
  example's U-Net (depth 3, 16 filters, conv + batch normalisation + ReLU, 1 + 32 output channels) at
  ``target_diameter`` 15, 12, 10 and 7.5 px, and for "output grid" designs at 15 px (StarDist's ``grid: 2``):
  ``drop_dec0``, the U-Net without its last (full-resolution) decoder level (output on the 2x coarser grid);
  ``stem_grid``, two full-resolution convolutions, 2x max pooling, the whole U-Net at half resolution and the
  output repeated to full size (what the U-Net's ``grid: 2`` builds); ``stem_grid_half``, the same without the
  repeat (output on the 2x coarser grid). The arms alternate, ``--repeats`` times; the median is printed.
* ceiling: the perfect star-convex output (the target of the real mask shrunk to each object scale) post-processed
  with the example's settings and scored against the full-resolution mask (the image's left half, which
  ``realdata_dsb2018.py`` trains and validates on): what the object scale alone costs.

The numbers are wall-clock seconds on whatever machine runs this (a shared CPU gives noisy numbers).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "dsb2018_one_image"
SHAPE = (1024, 1344)
DIAMETER = 23.7
EXAMPLE = Path(__file__).resolve().parents[2] / "recipes" / "examples" / "nuclei_instances.yaml"


def _block(x, filters):
    from keras import layers

    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    return x


def _unet(x, filters: int, depth: int, last_level: int = 0):
    """A plain U-Net whose decoder stops at ``last_level`` (0: full resolution)."""
    from keras import layers

    skips = []
    for level in range(depth):
        x = _block(x, filters * 2**level)
        skips.append(x)
        x = layers.MaxPooling2D()(x)
    x = _block(x, filters * 2**depth)
    for level in reversed(range(last_level, depth)):
        x = layers.Conv2DTranspose(filters * 2**level, 2, strides=2)(x)
        x = layers.Concatenate()([x, skips[level]])
        x = _block(x, filters * 2**level)
    return x


def network(kind: str):
    """The Keras model of one arm: ``plain``, ``drop_dec0``, ``stem_grid`` or ``stem_grid_half``."""
    import keras
    from keras import layers

    inp = keras.Input((None, None, 1))
    if kind == "plain":
        x = _unet(inp, 16, 3)
    elif kind == "drop_dec0":
        x = _unet(inp, 16, 3, last_level=1)
    else:
        x = _unet(layers.MaxPooling2D()(_block(inp, 16)), 16, 3)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)  # the star head's hidden convolution
    x = layers.Conv2D(1 + 32, 1)(x)
    if kind == "stem_grid":
        x = layers.UpSampling2D(2, interpolation="nearest")(x)
    return keras.Model(inp, x)


def grid_size(target: float) -> tuple[int, int]:
    """The network input for ``target`` px objects, padded to multiples of 16."""
    return tuple(int(np.ceil(s * target / DIAMETER / 16) * 16) for s in SHAPE)  # type: ignore[return-value]


def speed(repeats: int) -> None:
    import keras
    import onnxruntime as ort

    arms = [("plain", 15.0), ("plain", 12.0), ("plain", 10.0), ("plain", 7.5), ("drop_dec0", 15.0),
            ("stem_grid", 15.0), ("stem_grid_half", 15.0)]
    keras.utils.set_random_seed(0)
    sessions = []
    with tempfile.TemporaryDirectory() as folder:
        for kind, target in arms:
            model = network(kind)
            model.predict(np.zeros((1, 64, 64, 1), np.float32), verbose=0)
            path = Path(folder) / f"{kind}_{target}.onnx"
            model.export(str(path), format="onnx", verbose=False)
            sessions.append(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]))
    times: list[list[float]] = [[] for _ in arms]
    shapes: list[tuple[int, ...]] = [() for _ in arms]
    for rep in range(repeats + 1):
        for i, ((_kind, target), session) in enumerate(zip(arms, sessions, strict=True)):
            x = np.random.default_rng(rep).normal(size=(1, *grid_size(target), 1)).astype(np.float32)
            name = session.get_inputs()[0].name
            t0 = time.perf_counter()
            out = session.run(None, {name: x})[0]
            if rep:  # the first round warms up
                times[i].append(time.perf_counter() - t0)
            shapes[i] = out.shape[1:3]
    for (kind, target), t, shape in zip(arms, times, shapes, strict=True):
        print(f"speed: {kind:14s} target_diameter {target:4g}: input {grid_size(target)}, output {tuple(shape)}, "
              f"network {np.median(t):.3f} s (median of {len(t)}; min {min(t):.3f})", flush=True)


def ceiling() -> None:
    import tifffile
    import yaml

    from builder.data.preprocess import resize_yx
    from builder.recipe import recipe_from_dict
    from builder.tasks.metrics.instances import instance_metrics
    from builder.tasks.star_convex import star_convex_target
    from builder.workflow.inference import interpret_output, postprocess_settings, to_image_grid

    # the left half only (realdata_dsb2018.py's training and validation crops; its test crops stay unseen)
    mask = tifffile.imread(REALDATA / "mask2d.tif").astype(np.int64)[:, :256]
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["data"] = {"layout": "folders", "root": ".", "masks": "masks"}
    for target in (15.0, 12.0, 10.0, 7.5):
        data["preprocess"].update(object_diameter=DIAMETER, target_diameter=target)
        recipe = recipe_from_dict(data)
        grid = tuple(int(round(s * target / DIAMETER)) for s in mask.shape)
        output = np.maximum(star_convex_target(resize_yx(mask, grid, order=0)), 0.0)
        output = to_image_grid(output, mask.shape, grid, recipe)
        labels = interpret_output(output, recipe, postprocess_settings(recipe, None))["labels"]
        m = instance_metrics([mask], [labels])
        print(f"ceiling: target_diameter {target:4g}: grid {grid}, {len(np.unique(labels)) - 1} objects "
              f"(mask {len(np.unique(mask)) - 1}), ap@0.5 {m['ap@0.5']:.3f}, f1@0.5 {m['f1@0.5']:.3f}, "
              f"mean matched IoU {m['mean_matched_iou']:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-ceiling", action="store_true")
    args = parser.parse_args()
    if not args.skip_ceiling:
        ceiling()
    if not args.skip_speed:
        speed(args.repeats)


if __name__ == "__main__":
    main()

"""Input pipeline throughput vs. U-Net training throughput (run by hand, not collected by pytest).

    .venv/bin/python tests/benchmarks/bench_input_pipeline.py [--batches 30] [--steps 6]

Measures augmented 256x256 single-channel patches per second produced by ``make_training_datasets`` with the
default augmentation (flips, 90-degree turns, brightness, contrast), and training samples per second of a
default-sized 4-level U-Net (16 -> 128 filters) written directly in Keras, then prints the ratio. The pipeline is
not the bottleneck when the ratio is well above 1.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile


def _write_data(root: Path, n: int = 12, size: int = 512) -> None:
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        mask = np.zeros((size, size), np.uint16)
        for k in range(1, 40):
            cy, cx, r = rng.integers(0, size), rng.integers(0, size), rng.integers(6, 16)
            mask[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = k
        image = (rng.poisson(100 + 800 * (mask > 0))).astype(np.uint16)
        tifffile.imwrite(root / "images" / f"{i}.tif", image)
        tifffile.imwrite(root / "masks" / f"{i}.tif", mask)


def pipeline_rate(root: Path, batch: int, batches: int) -> float:
    from builder.data.layouts import discover
    from builder.data.pipeline import make_training_datasets
    from builder.recipe.schema import Recipe

    recipe = Recipe(name="bench", task="segmentation", data={"masks": "masks"},
                    preprocess={"patch": {"size": 256, "per_image": 16}})
    train, _, _ = make_training_datasets(recipe, discover(recipe, root), batch_size=batch,
                                         target_fn=lambda m: (m > 0).astype(np.float32))
    it = iter(train)
    for _ in range(3):
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch / (time.perf_counter() - start)


def unet(keras, levels: int = 4, base: int = 16):
    inputs = keras.Input((256, 256, 1))
    x, skips = inputs, []
    for i in range(levels):
        f = base * 2 ** i
        x = keras.layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        if i < levels - 1:
            skips.append(x)
            x = keras.layers.MaxPooling2D()(x)
    for i in reversed(range(levels - 1)):
        f = base * 2 ** i
        x = keras.layers.UpSampling2D()(x)
        x = keras.layers.Concatenate()([x, skips[i]])
        x = keras.layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(f, 3, padding="same", activation="relu")(x)
    outputs = keras.layers.Conv2D(2, 1, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def training_rate(batch: int, steps: int) -> float:
    import keras

    model = unet(keras)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((batch, 256, 256, 1)).astype(np.float32)
    y = (x > 0.5).astype(np.int32)
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _write_data(Path(tmp))
        patches = pipeline_rate(Path(tmp), args.batch, args.batches)
    samples = training_rate(args.batch, args.steps)
    print(f"input pipeline: {patches:8.1f} augmented 256x256x1 patches/s (default augmentation, batch {args.batch})")
    print(f"U-Net training: {samples:8.1f} samples/s (4 levels, 16->128 filters, batch {args.batch})")
    print(f"ratio pipeline/training: {patches / samples:.1f}x")


if __name__ == "__main__":
    main()

"""Training-step time of a compiled `unet` recipe vs the same U-Net written by hand in Keras.

Run by hand (not collected by pytest):

    .venv/bin/python tests/benchmarks/bench_compiled_vs_handwritten.py [--size 128 --batch 8 --steps 30]

Both models have the same layers and parameter count (checked). Timing alternates rounds of A and B
steps (``train_on_batch`` of a compiled ``tf.function``) and reports the median step time of each and
their ratio (target: within 2 %).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def handwritten_unet(size: int, channels: int, classes: int, depth: int, base: int):
    import keras
    from keras import layers as L

    def block(x, filters):
        for _ in range(2):
            x = L.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = L.BatchNormalization()(x)
            x = L.Activation("relu")(x)
        return x

    inputs = keras.Input((None, None, channels))
    x, skips = inputs, []
    for level in range(depth):
        x = block(x, base * 2**level)
        skips.append(x)
        x = L.MaxPooling2D(2)(x)
    x = block(x, base * 2**depth)
    for level in reversed(range(depth)):
        x = L.Conv2DTranspose(base * 2**level, 2, strides=2, padding="same")(x)
        x = L.Concatenate()([x, skips[level]])
        x = block(x, base * 2**level)
    outputs = L.Conv2D(classes, 1, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs)


def compiled_unet(size: int, channels: int, classes: int, depth: int, base: int):
    from builder.compile import compile_recipe_model
    from builder.recipe.schema import Recipe

    recipe = Recipe(
        name="bench", task="segmentation",
        data={"masks": "masks", "classes": [f"c{i}" for i in range(classes)],
              "channels": [f"ch{i}" for i in range(channels)]},
        preprocess={"patch": {"size": size}},
        model={"template": "unet", "params": {"depth": depth, "base_filters": base}},
    )
    return compile_recipe_model(recipe)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--base", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, args.size, args.size, 1), dtype="float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, (args.batch, args.size, args.size)), 3)
    models = {
        "compiled": compiled_unet(args.size, 1, 3, args.depth, args.base),
        "handwritten": handwritten_unet(args.size, 1, 3, args.depth, args.base),
    }
    counts = {k: m.count_params() for k, m in models.items()}
    assert counts["compiled"] == counts["handwritten"], counts
    for model in models.values():
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        for _ in range(3):  # trace + warm up
            model.train_on_batch(x, y)
    times: dict[str, list[float]] = {k: [] for k in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            for _ in range(args.steps):
                start = time.perf_counter()
                model.train_on_batch(x, y)
                times[name].append(time.perf_counter() - start)
    medians = {k: statistics.median(v) for k, v in times.items()}
    ratio = medians["compiled"] / medians["handwritten"]
    print(f"params: {counts['compiled']:,} (both); input {args.size}x{args.size}, batch {args.batch}, "
          f"depth {args.depth}, base {args.base}; {args.rounds}x{args.steps} steps each")
    for name, value in medians.items():
        print(f"{name:>12}: median step {value * 1000:.1f} ms")
    print(f"ratio compiled/handwritten: {ratio:.3f}")


if __name__ == "__main__":
    main()

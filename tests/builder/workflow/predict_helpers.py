"""Tiny real Keras models, TIFF images with known objects, recipes and run folders for the predict/evaluate tests.

The models have hand-set weights, so their outputs are known: pixels brighter than half the normalised range
are foreground / interior / class "bright"; that makes expected masks, labels and metrics computable by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from builder.recipe import Recipe, dump_recipe, recipe_from_dict

#: Disks (centre y, centre x, radius) in the 48 x 56 test images.
DISKS = [(12, 14, 6), (30, 38, 8), (36, 10, 4)]


def disk_labels(shape: tuple[int, int] = (48, 56), disks: list[tuple[int, int, int]] = DISKS) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int32)
    for i, (cy, cx, r) in enumerate(disks, start=1):
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = i
    return labels


def disk_image(labels: np.ndarray, *, low: int = 100, high: int = 1100) -> np.ndarray:
    """uint16 image: ``low`` background, ``high`` inside objects (a second channel, if asked, is half of it)."""
    return np.where(labels > 0, high, low).astype(np.uint16)


def write_tiff(path: Path, array: np.ndarray, pixel_size: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    kw: dict[str, Any] = {}
    if pixel_size:
        kw = {"resolution": (1 / pixel_size, 1 / pixel_size), "metadata": {"unit": "um"}, "imagej": True}
    tifffile.imwrite(path, array, **kw)
    return path


def threshold_model(n_out: int, *, activation: str = "softmax"):
    """1x1 conv with fixed weights on a (None, None, 1) input: class k's logit grows with brightness as k does.

    n_out=2: [background, foreground]; n_out=3: [background, boundary, interior] (boundary always middling).
    """
    import keras

    inp = keras.Input((None, None, 1))
    layer = keras.layers.Conv2D(n_out, 1, activation=activation)
    out = layer(inp)
    slope = np.linspace(-20.0, 20.0, n_out, dtype=np.float32)
    layer.set_weights([slope.reshape(1, 1, 1, n_out), -slope / 2])
    return keras.Model(inp, out)


def conv_net(n_in: int = 1, n_out: int = 2, seed: int = 0):
    """Three random 3x3 convolutions (receptive-field radius 3) and a softmax: for tiled == untiled checks."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((None, None, n_in))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")(inp)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")(x)
    out = keras.layers.Conv2D(n_out, 3, padding="same", activation="softmax")(x)
    return keras.Model(inp, out)


def identity_model(scale: float = 1.0):
    """A 1x1 conv that returns its input times ``scale``."""
    import keras

    inp = keras.Input((None, None, 1))
    layer = keras.layers.Conv2D(1, 1)
    out = layer(inp)
    layer.set_weights([np.full((1, 1, 1, 1), scale, np.float32), np.zeros(1, np.float32)])
    return keras.Model(inp, out)


def brightness_classifier(size: int = 16):
    """(B, size, size, 1) -> [dim, bright] from the mean normalised intensity (bright when above 0.5)."""
    import keras

    inp = keras.Input((size, size, 1))
    x = keras.layers.GlobalAveragePooling2D()(inp)
    dense = keras.layers.Dense(2, activation="softmax")
    out = dense(x)
    dense.set_weights([np.array([[-20.0, 20.0]], np.float32), np.array([10.0, -10.0], np.float32)])
    return keras.Model(inp, out)


TEMPLATES = {"classification": "classifier", "image_to_image": "restoration"}


def make_recipe(task: str, root: Path | str = ".", **data: Any) -> Recipe:
    """A small, valid recipe: minmax normalisation, 32 px tiles with 12 px overlap, split by folders."""
    extra = {"image_size": 16} if task == "classification" else {}
    layout = {"classification": {"layout": "class_folders"}, "image_to_image": {"targets": "targets"}}.get(
        task, {"masks": "masks"})
    return recipe_from_dict({
        "name": f"test-{task}", "task": task,
        "data": {"root": str(root), "split": {"mode": "folders"}, **layout, **data},
        "preprocess": {"normalize": {"method": "minmax"}, "tile": {"size": 32, "overlap": 12},
                       "patch": {"size": 32}, **extra},
        "model": {"template": TEMPLATES.get(task, "unet"), "params": {"depth": 2, "base_filters": 4}},
    })


def samples_of_test_folder(recipe: Recipe, root: Path) -> list[Any]:
    """The samples of ``root/test`` (an empty ``root/train`` is made so the folder split is complete)."""
    from builder.data.layouts import discover

    subs = {"classification": [], "image_to_image": ["images", "targets"]}.get(recipe.task, ["images", "masks"])
    for sub in subs or [""]:
        (root / "train" / sub).mkdir(parents=True, exist_ok=True)
    return discover(recipe, root).splits["test"]


def write_run(run_dir: Path, model: Any, recipe: Recipe, *, normalization: dict | None = None,
              postprocess: dict | None = None) -> Path:
    """A run folder as training leaves it: checkpoints/best.keras, recipe.yaml, normalization.json."""
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    model.save(run_dir / "checkpoints" / "best.keras")
    (run_dir / "recipe.yaml").write_text(dump_recipe(recipe, full=True), encoding="utf-8")
    (run_dir / "normalization.json").write_text(
        json.dumps(normalization or {"normalize": None, "target_normalize": None}), encoding="utf-8")
    if postprocess is not None:
        (run_dir / "postprocess.json").write_text(json.dumps(postprocess), encoding="utf-8")
    return run_dir


def write_threshold_instance_run(run_dir: Path) -> Path:
    """A run folder whose model thresholds the image into the three-class output (instance segmentation of the
    :data:`DISKS` of :func:`disk_image`), with post-processing thresholds of 0.5 and objects of 5 px or more."""
    return write_run(run_dir, threshold_model(3), make_recipe("instance_segmentation"),
                     postprocess={"threshold": 0.5, "seed_threshold": 0.5, "min_size": 5})


def write_instance_dataset(root: Path, *, splits: dict[str, int], seed: int = 0) -> dict[str, list[np.ndarray]]:
    """``root/<split>/images`` + ``masks`` with random non-touching disks; returns the true labels per split."""
    rng = np.random.default_rng(seed)
    truths: dict[str, list[np.ndarray]] = {}
    for split, n in splits.items():
        truths[split] = []
        for i in range(n):
            disks = [(int(rng.integers(8, 16)), int(rng.integers(8, 18)), 5),
                     (int(rng.integers(30, 40)), int(rng.integers(30, 46)), int(rng.integers(4, 8)))]
            labels = disk_labels((48, 56), disks)
            write_tiff(root / split / "images" / f"img{i}.tif", disk_image(labels))
            write_tiff(root / split / "masks" / f"img{i}.tif", labels.astype(np.uint16))
            truths[split].append(labels)
    return truths


def imported_modules(importtime_stderr: str) -> set[str]:
    """Top-level modules a ``python -X importtime`` child process imported (from its stderr)."""
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in importtime_stderr.splitlines()
            if line.startswith("import time:") and "|" in line}

"""Benchmark (not a test): does active learning reach random's score with fewer labels, on real images?

Two real data sets, labels added in rounds in the order active learning chooses (most uncertain first: entropy
plus test-time-augmentation disagreement, :mod:`builder.active_learning`) and in random order, 5 seeds each; a tiny
Keras model is trained from scratch after every round and scored on held-out data that is never labelled.

- BCCD (``../shared/realdata/bccd``): cell crops cut from the Pascal VOC boxes (RBC, WBC, Platelets), resized to
  24x24. Start: the crops of 2 labelled images. Pool: the crops of 40 other images; test: the crops of 40 images of
  the data set's own test list. Score: balanced accuracy.
- DSB2018 (``../shared/realdata/dsb2018_one_image``): the 512x512 image cut into 64x64 regions. Start: 1 labelled
  region. Pool: 47 regions; test: 16 regions (every fourth, spread over the image). Score: foreground IoU.

The headline is the number of labels (in total, and added after the start) each order needs to reach random
order's final mean score. Run by hand, under nice (CPU only, a few minutes):

    nice -n 10 .venv/bin/python tests/benchmarks/active_learning.py [--seeds 5] [--only bccd|dsb]
"""

from __future__ import annotations

import argparse
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
CLASSES = ("RBC", "WBC", "Platelets")
CROP = 24
TILE = 64


# -- data -------------------------------------------------------------------------------------------------------
def bccd_crops(names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(crops N x 24 x 24 x 3 in [0, 1], class indices, index of the source image) for the VOC boxes of ``names``."""
    from PIL import Image

    root = REALDATA / "bccd" / "BCCD"
    crops, labels, groups = [], [], []
    for g, name in enumerate(names):
        image = Image.open(root / "JPEGImages" / f"{name}.jpg").convert("RGB")
        for obj in ET.parse(root / "Annotations" / f"{name}.xml").getroot().iter("object"):
            label = obj.findtext("name")
            box = obj.find("bndbox")
            if label not in CLASSES or box is None:
                continue
            x0, y0, x1, y1 = (int(float(box.findtext(k) or 0)) for k in ("xmin", "ymin", "xmax", "ymax"))
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            crop = image.crop((x0, y0, x1, y1)).resize((CROP, CROP), Image.BILINEAR)
            crops.append(np.asarray(crop, np.float32) / 255.0)
            labels.append(CLASSES.index(label))
            groups.append(g)
    return np.stack(crops), np.asarray(labels), np.asarray(groups)


def bccd_task() -> dict:
    root = REALDATA / "bccd" / "BCCD"
    test_names = (root / "ImageSets" / "Main" / "test.txt").read_text().split()[:40]
    others = sorted(p.stem for p in (root / "Annotations").glob("*.xml") if p.stem not in set(test_names))
    start_names, pool_names = others[:2], others[2:42]
    xs, ys, _ = bccd_crops(start_names)
    xp, yp, _ = bccd_crops(pool_names)
    xt, yt, _ = bccd_crops(test_names)
    return {"name": "bccd", "start": (xs, ys), "pool": (xp, yp), "test": (xt, yt), "per_round": 24, "rounds": 4,
            "build": _classifier, "score": _balanced_accuracy, "pixel": False, "steps": 120}


def dsb_task() -> dict:
    import tifffile

    image = tifffile.imread(REALDATA / "dsb2018_one_image" / "img2d.tif").astype(np.float32)
    mask = tifffile.imread(REALDATA / "dsb2018_one_image" / "mask2d.tif") > 0
    low, high = np.percentile(image, (1, 99.8))
    image = np.clip((image - low) / (high - low), 0, 1)
    tiles = [(r, c) for r in range(0, 512, TILE) for c in range(0, 512, TILE)]
    x = np.stack([image[r:r + TILE, c:c + TILE, None] for r, c in tiles])
    y = np.stack([mask[r:r + TILE, c:c + TILE, None] for r, c in tiles]).astype(np.float32)
    test = np.arange(len(tiles)) % 4 == 3
    rest = np.flatnonzero(~test)
    start = rest[[len(rest) // 2]]  # one region in the middle of the image
    pool = np.setdiff1d(rest, start)
    return {"name": "dsb2018", "start": (x[start], y[start]), "pool": (x[pool], y[pool]), "test": (x[test], y[test]),
            "per_round": 3, "rounds": 4, "build": _segmenter, "score": _foreground_iou, "pixel": True, "steps": 80}


# -- models and scores ------------------------------------------------------------------------------------------
def _classifier():
    import keras

    return keras.Sequential([
        keras.Input((CROP, CROP, 3)), keras.layers.Conv2D(8, 3, activation="relu", padding="same"),
        keras.layers.MaxPooling2D(), keras.layers.Conv2D(16, 3, activation="relu", padding="same"),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(len(CLASSES), activation="softmax")])


def _segmenter():
    import keras

    inputs = keras.Input((None, None, 1))
    h = keras.layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    h = keras.layers.Conv2D(8, 3, activation="relu", padding="same", dilation_rate=2)(h)
    h = keras.layers.Conv2D(8, 3, activation="relu", padding="same", dilation_rate=4)(h)
    return keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid")(h))


def _balanced_accuracy(model, x, y) -> float:
    pred = np.argmax(model.predict(x, verbose=0, batch_size=256), axis=-1)
    return float(np.mean([np.mean(pred[y == k] == k) for k in np.unique(y)]))


def _foreground_iou(model, x, y) -> float:
    pred = model.predict(x, verbose=0, batch_size=64) > 0.5
    truth = y > 0.5
    return float((pred & truth).sum() / max(1, (pred | truth).sum()))


def _repeat(task: dict, x: np.ndarray, y: np.ndarray, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``task['steps']`` batches drawn from (x, y) in shuffled passes: the same training effort in every round, in
    one epoch (many tiny epochs cost more in Keras overhead than in learning)."""
    rng = np.random.default_rng(seed)
    n = task["steps"] * batch
    order = np.concatenate([rng.permutation(len(x)) for _ in range(-(-n // len(x)))])[:n]
    return x[order], y[order]


def train(task: dict, x: np.ndarray, y: np.ndarray, seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    model = task["build"]()
    if task["pixel"]:
        model.compile(keras.optimizers.Adam(task.get("lr", 1e-2)), "binary_crossentropy")
        x = np.concatenate([x, x[:, ::-1], x[:, :, ::-1], np.rot90(x, 1, axes=(1, 2))])  # flips, like augment:
        y = np.concatenate([y, y[:, ::-1], y[:, :, ::-1], np.rot90(y, 1, axes=(1, 2))])
        model.fit(*_repeat(task, x, y, 8, seed), epochs=1, batch_size=8, verbose=0, shuffle=False)
    else:
        model.compile(keras.optimizers.Adam(task.get("lr", 2e-3)), "sparse_categorical_crossentropy")
        counts = np.bincount(y, minlength=len(CLASSES))
        weights = {k: float(len(y) / (len(CLASSES) * counts[k])) if counts[k] else 1.0 for k in range(len(CLASSES))}
        model.fit(*_repeat(task, x, y, 16, seed), epochs=1, batch_size=16, verbose=0, shuffle=False,
                  class_weight=weights)
    return model


# -- ordering ---------------------------------------------------------------------------------------------------
def active_order(task: dict, model, x_pool: np.ndarray) -> np.ndarray:
    """Pool indices, most uncertain first, with the engine's ranking (entropy + TTA disagreement)."""
    from builder.active_learning.ranking import PIXEL_TOP_FRACTION, rank_outputs
    from builder.active_learning.uncertainty import _VIEWS

    views = []
    for _, forward, inverse in _VIEWS:
        moved = np.stack([forward(a) for a in x_pool])
        out = model.predict(moved, verbose=0, batch_size=256)
        views.append([inverse(o) if task["pixel"] else o for o in out])
    per_image = [[v[i] for v in views] for i in range(len(x_pool))]
    rows = rank_outputs([str(i) for i in range(len(x_pool))], per_image,
                        top_fraction=PIXEL_TOP_FRACTION if task["pixel"] else 1.0)
    return np.array([int(r["image"]) for r in rows])


def run_order(task: dict, seed: int, chooser: str, log: Callable[[str], None], start: tuple) -> list[tuple[int, float]]:
    """(labels in total, test score) after the start and after every round; ``start`` = (model, score) trained on
    the starting labels with this seed (the same for both orders)."""
    rng = np.random.default_rng(seed)
    (xs, ys), (xp, yp), (xt, yt) = task["start"], task["pool"], task["test"]
    chosen: list[int] = []
    curve = []
    for r in range(task["rounds"] + 1):
        x = np.concatenate([xs, xp[chosen]]) if chosen else xs
        y = np.concatenate([ys, yp[chosen]]) if chosen else ys
        model, score = start if r == 0 else (None, None)
        if model is None:
            model = train(task, x, y, seed)
            score = task["score"](model, xt, yt)
        curve.append((len(x), score))
        if r == task["rounds"]:
            break
        left = np.setdiff1d(np.arange(len(xp)), chosen)
        if chooser == "random":
            picks = rng.permutation(left)[: task["per_round"]]
        else:
            order = active_order(task, model, xp[left])
            picks = left[order[: task["per_round"]]]
        chosen += [int(i) for i in picks]
    log(f"  {task['name']} {chooser:<6} seed {seed}: " + " ".join(f"{n}:{s:.3f}" for n, s in curve))
    return curve


def labels_to_reach(mean_curve: list[tuple[int, float]], target: float) -> int | None:
    return next((n for n, s in mean_curve if s >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", choices=("bccd", "dsb"))
    parser.add_argument("--steps", type=int, help="Gradient steps per training (default: 120 bccd, 80 dsb).")
    parser.add_argument("--lr", type=float, help="Adam learning rate (default: 2e-3 bccd, 1e-2 dsb).")
    args = parser.parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tasks = [t for t in (("bccd", bccd_task), ("dsb", dsb_task)) if args.only in (None, t[0])]
    for _, make in tasks:
        start = time.time()
        task = make()
        task.update({k: v for k, v in (("steps", args.steps), ("lr", args.lr)) if v is not None})
        print(f"{task['name']}: start {len(task['start'][1])} labelled, pool {len(task['pool'][1])}, test "
              f"{len(task['test'][1])}; {task['rounds']} rounds of {task['per_round']}", flush=True)
        curves: dict[str, list] = {"active": [], "random": []}
        for seed in range(args.seeds):
            model = train(task, *task["start"], seed)
            first = (model, task["score"](model, *task["test"]))
            for chooser in curves:
                curves[chooser].append(run_order(task, seed, chooser, lambda m: print(m, flush=True), first))
        means = {c: [(n, float(np.mean([cv[i][1] for cv in curves[c]])), float(np.std([cv[i][1] for cv in curves[c]])))
                     for i, (n, _) in enumerate(curves[c][0])] for c in curves}
        print(f"{task['name']} mean score (std) over {args.seeds} seeds, by labels in total:")
        print("  labels  " + "  ".join(f"{n:>13}" for n, _, _ in means["random"]))
        for c in ("active", "random"):
            print(f"  {c:<7} " + "  ".join(f"{m:.3f} ({s:.3f})" for _, m, s in means[c]))
        target = means["random"][-1][1]
        if target <= means["random"][0][1]:
            print(f"  note: random order's score did not rise above the start ({means['random'][0][1]:.3f}); more "
                  "labels did not help this model, so the labels-to-reach comparison below means nothing")
        n0, n_random = means["random"][0][0], means["random"][-1][0]
        n_active = labels_to_reach([(n, m) for n, m, _ in means["active"]], target)
        if n_active is None:
            print(f"  active learning did not reach random's final score {target:.3f} within {n_random} labels")
        else:
            print(f"  random's final score {target:.3f} at {n_random} labels; active learning reaches it at "
                  f"{n_active}: {100 * (1 - n_active / n_random):.0f} % fewer labels in total, "
                  f"{100 * (1 - (n_active - n0) / max(1, n_random - n0)):.0f} % fewer added labels")
        print(f"  ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()

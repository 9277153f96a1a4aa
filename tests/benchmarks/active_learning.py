"""Benchmark (not a test): does active learning reach random's score with fewer labels, on real images?

Two real data sets; labels are added in rounds in the order active learning chooses (the product's ranking,
:mod:`builder.active_learning`: entropy plus test-time-augmentation disagreement, most uncertain first) and in
random order, for several seeds. After every round the model is **retrained from scratch** (same seed, same number
of gradient steps) on all labels so far and scored on a fixed test set that is never labelled; round 0 (the start)
is shared by both orders.

- BCCD (``../shared/realdata/bccd``): cell crops cut from the Pascal VOC boxes (RBC, WBC, Platelets), resized to
  64x64 and normalised as the product does (percentile per image). Model: the ``classifier`` template as the
  classification recipe template builds it (4 conv blocks with batch norm, 16 filters doubled per block, dropout
  0.2), Adam 1e-3, flips/rot90 augmentation, ``class_weights: auto`` (inverse frequency). Start: the crops of 2
  labelled images. Pool: the crops of 40 other images; test: the crops of the first 40 images of the data set's
  own test list. Score: balanced accuracy.
- DSB2018 (``../shared/realdata/dsb2018_one_image``): the 512x512 image cut into 64x64 regions. Start: 1 labelled
  region. Pool: 47 regions; test: 16 regions (every fourth). Model: the ``unet`` template (depth 3, 16 filters).
  Score: foreground IoU and F1 of nuclei at IoU 0.5 (connected components of the foreground).

The headline is the number of labels each order needs to reach random order's final mean score. Run by hand,
under nice (CPU only):

    nice -n 10 python tests/benchmarks/active_learning.py [--seeds 5] [--first-seed 0] [--only bccd|dsb]
    python tests/benchmarks/active_learning.py --summarise LOG [LOG ...]   # seeds run as separate processes
"""

from __future__ import annotations

import argparse
import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
CLASSES = ("RBC", "WBC", "Platelets")
CROP = 64
TILE = 64


# -- data -------------------------------------------------------------------------------------------------------
def bccd_crops(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(crops N x 64 x 64 x 3 normalised as the product does, class indices) for the VOC boxes of ``names``."""
    from PIL import Image

    from builder.data.preprocess import preprocess_image
    from builder.recipe.sections.preprocess import PreprocessSection

    pre = PreprocessSection()
    root = REALDATA / "bccd" / "BCCD"
    crops, labels = [], []
    for name in names:
        image = Image.open(root / "JPEGImages" / f"{name}.jpg").convert("RGB")
        for obj in ET.parse(root / "Annotations" / f"{name}.xml").getroot().iter("object"):
            label = obj.findtext("name", "").strip()
            box = obj.find("bndbox")
            if label not in CLASSES or box is None:
                continue
            x0, y0, x1, y1 = (int(float(box.findtext(k) or 0)) for k in ("xmin", "ymin", "xmax", "ymax"))
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(image.width, x1), min(image.height, y1)
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            raw = np.asarray(image.crop((x0, y0, x1, y1)), np.float32)
            x, _ = preprocess_image(raw, pre, size=(CROP, CROP), where=name)
            crops.append(x)
            labels.append(CLASSES.index(label))
    return np.stack(crops).astype(np.float32), np.asarray(labels)


def bccd_task(pool_images: int = 40, test_images: int = 40) -> dict:
    root = REALDATA / "bccd" / "BCCD"
    test_names = (root / "ImageSets" / "Main" / "test.txt").read_text().split()[:test_images]
    others = sorted(p.stem for p in (root / "Annotations").glob("*.xml") if p.stem not in set(test_names))
    start_names, pool_names = others[:2], others[2:2 + pool_images]
    return {"name": "bccd", "start": bccd_crops(start_names), "pool": bccd_crops(pool_names),
            "test": bccd_crops(test_names), "per_round": 12, "rounds": 5, "build": _classifier,
            "score": _balanced_accuracy, "pixel": False, "steps": 120, "batch": 32, "lr": 1e-3}


def dsb_task() -> dict:
    import tifffile

    image = tifffile.imread(REALDATA / "dsb2018_one_image" / "img2d.tif").astype(np.float32)
    mask = tifffile.imread(REALDATA / "dsb2018_one_image" / "mask2d.tif")
    low, high = np.percentile(image, (1, 99.8))
    image = np.clip((image - low) / (high - low), 0, 1)
    tiles = [(r, c) for r in range(0, 512, TILE) for c in range(0, 512, TILE)]
    x = np.stack([image[r:r + TILE, c:c + TILE, None] for r, c in tiles])
    y = np.stack([mask[r:r + TILE, c:c + TILE, None] for r, c in tiles])
    test = np.arange(len(tiles)) % 4 == 3
    rest = np.flatnonzero(~test)
    start = rest[[len(rest) // 2]]  # one region in the middle of the image
    pool = np.setdiff1d(rest, start)
    return {"name": "dsb2018", "start": (x[start], y[start] > 0), "pool": (x[pool], y[pool] > 0),
            "test": (x[test], y[test]), "per_round": 3, "rounds": 5, "build": _segmenter,
            "score": _segmentation_scores, "pixel": True, "steps": 150, "batch": 8, "lr": 1e-3}


# -- models and scores ------------------------------------------------------------------------------------------
def _template_model(task: str, template: str, params: dict, shape: tuple[int, int, int], n_classes: int):
    from builder.compile import compile_recipe_model
    from builder.recipe.load import recipe_from_dict

    data = {"layout": "class_folders", "root": "."} if task == "classification" else \
        {"layout": "folders", "root": ".", "masks": "masks", "classes": ["background", "nucleus"]}
    recipe = recipe_from_dict({"cellwright": 1, "name": f"al-{template}", "task": task, "data": data,
                               "preprocess": {"image_size": shape[0]} if task == "classification" else {},
                               "model": {"template": template, "params": params}}, source="benchmark")
    return compile_recipe_model(recipe, shape, n_classes=n_classes)


def _classifier():
    return _template_model("classification", "classifier", {}, (CROP, CROP, 3), len(CLASSES))


def _segmenter():
    return _template_model("segmentation", "unet", {"depth": 3, "base_filters": 16}, (TILE, TILE, 1), 2)


def _balanced_accuracy(model, x, y) -> dict[str, float]:
    pred = np.argmax(model.predict(x, verbose=0, batch_size=256), axis=-1)
    recall = [float(np.mean(pred[y == k] == k)) for k in np.unique(y)]
    return {"balanced_accuracy": float(np.mean(recall))}


def _instance_f1(pred: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    """(true positives, predicted objects, true objects) matched at IoU >= 0.5 on one region."""
    from scipy import ndimage

    labels, n_pred = ndimage.label(pred)
    true_ids = [i for i in np.unique(truth) if i]
    tp = 0
    for t in true_ids:
        region = truth == t
        hits, counts = np.unique(labels[region], return_counts=True)
        for h, c in zip(hits, counts, strict=True):
            if h and c / ((labels == h) | region).sum() >= 0.5:
                tp += 1
                break
    return tp, n_pred, len(true_ids)


def _segmentation_scores(model, x, y) -> dict[str, float]:
    prob = model.predict(x, verbose=0, batch_size=64)
    pred = np.argmax(prob, axis=-1) > 0 if prob.shape[-1] > 1 else prob[..., 0] > 0.5
    truth = y[..., 0] > 0
    iou = float((pred & truth).sum() / max(1, (pred | truth).sum()))
    tp, n_pred, n_true = map(sum, zip(*(_instance_f1(p, t) for p, t in zip(pred, y[..., 0], strict=True)),
                                      strict=True))
    return {"foreground_iou": iou, "f1_at_0.5": float(2 * tp / max(1, n_pred + n_true))}


def _augmented_batches(task: dict, x: np.ndarray, y: np.ndarray, seed: int):
    """``task['steps']`` batches from shuffled passes over (x, y), each image randomly flipped / rotated by 90°."""
    rng = np.random.default_rng(seed)
    n = task["steps"] * task["batch"]
    order = np.concatenate([rng.permutation(len(x)) for _ in range(-(-n // len(x)))])[:n]
    xs, ys = x[order].copy(), y[order].copy()
    for i in range(n):
        k, flip = int(rng.integers(4)), bool(rng.integers(2))
        xs[i] = np.rot90(xs[i][:, ::-1] if flip else xs[i], k)
        if task["pixel"]:
            ys[i] = np.rot90(ys[i][:, ::-1] if flip else ys[i], k)
    return xs, ys


def train(task: dict, x: np.ndarray, y: np.ndarray, seed: int):
    """A new model trained from scratch on (x, y): the same number of steps whatever the number of labels."""
    import keras

    from builder.tasks.classification import class_weights_from_labels

    keras.utils.set_random_seed(seed)
    model = task["build"]()
    model.compile(keras.optimizers.Adam(task["lr"]), "sparse_categorical_crossentropy")
    xs, ys = _augmented_batches(task, x, y.astype(np.int64), seed)
    n_classes = int(model.output_shape[-1])
    weights = class_weights_from_labels(y, n_classes)
    # one epoch of all the steps: many tiny epochs cost more in Keras overhead than in learning
    model.fit(xs, ys, epochs=1, batch_size=task["batch"], verbose=0, shuffle=False,
              class_weight=None if task["pixel"] else dict(enumerate(weights)))
    return model


# -- ordering ---------------------------------------------------------------------------------------------------
def active_order(task: dict, model, x_pool: np.ndarray) -> np.ndarray:
    """Pool indices in the order the product's ranking suggests them (most uncertain first)."""
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


def run_order(task: dict, seed: int, chooser: str, log: Callable[[str], None], start: tuple) -> dict:
    """Scores after the start and after every round, and the classes of what was picked each round.

    ``start`` = (model, scores) trained on the starting labels with this seed (the same for both orders).
    """
    rng = np.random.default_rng(seed)
    (xs, ys), (xp, yp), (xt, yt) = task["start"], task["pool"], task["test"]
    chosen: list[int] = []
    curve, picked = [], []
    for r in range(task["rounds"] + 1):
        x = np.concatenate([xs, xp[chosen]]) if chosen else xs
        y = np.concatenate([ys, yp[chosen]]) if chosen else ys
        model, scores = start if r == 0 else (None, None)
        if model is None:
            model = train(task, x, y, seed)
            scores = task["score"](model, xt, yt)
        curve.append((len(x), scores))
        if r == task["rounds"]:
            break
        left = np.setdiff1d(np.arange(len(xp)), chosen)
        if chooser == "random":
            picks = rng.permutation(left)[: task["per_round"]]
        else:
            order = active_order(task, model, xp[left])
            picks = left[order[: task["per_round"]]]
        if not task["pixel"]:
            picked.append(np.bincount(yp[picks], minlength=len(CLASSES)).tolist())
        chosen += [int(i) for i in picks]
    head = next(iter(curve[0][1]))
    log(f"  {task['name']} {chooser:<6} seed {seed}: " + " ".join(f"{n}:{s[head]:.3f}" for n, s in curve)
        + (f"  picked per class {picked}" if picked else ""))
    return {"curve": curve, "picked": picked}


def labels_to_reach(mean_curve: list[tuple[int, float]], target: float) -> int | None:
    return next((n for n, s in mean_curve if s >= target), None)


def summarise(task: dict, runs: dict[str, list[dict]], seeds: int) -> dict:
    """Print per-round mean (std) per order and metric, and the labels each order needs; return the numbers."""
    summary: dict = {}
    metrics = list(runs["random"][0]["curve"][0][1])
    for metric in metrics:
        means = {c: [(n, float(np.mean([r["curve"][i][1][metric] for r in runs[c]])),
                      float(np.std([r["curve"][i][1][metric] for r in runs[c]])))
                     for i, (n, _) in enumerate(runs[c][0]["curve"])] for c in runs}
        print(f"{task['name']} {metric}: mean (std) over {seeds} seeds, by labels in total:")
        print("  labels  " + "  ".join(f"{n:>13}" for n, _, _ in means["random"]))
        for c in runs:
            print(f"  {c:<7} " + "  ".join(f"{m:.3f} ({s:.3f})" for _, m, s in means[c]))
        target = means["random"][-1][1]
        n0, n_random = means["random"][0][0], means["random"][-1][0]
        n_active = labels_to_reach([(n, m) for n, m, _ in means["active"]], target)
        if target <= means["random"][0][1]:
            print(f"  note: random order's score did not rise above the start ({means['random'][0][1]:.3f}); more "
                  "labels did not help this model, so the labels-to-reach comparison means nothing")
        if n_active is None:
            print(f"  active learning did not reach random's final score {target:.3f} within {n_random} labels")
        else:
            print(f"  random's final score {target:.3f} at {n_random} labels; active learning reaches it at "
                  f"{n_active}: {100 * (1 - n_active / n_random):.0f} % fewer labels in total, "
                  f"{100 * (1 - (n_active - n0) / max(1, n_random - n0)):.0f} % fewer added labels")
        summary[metric] = {"means": means, "target": target, "active_reaches_at": n_active}
    for c in runs:
        if runs[c][0]["picked"]:
            total = np.sum([np.sum(r["picked"], axis=0) for r in runs[c]], axis=0) / seeds
            print(f"  {c:<7} picks per seed, by class {dict(zip(CLASSES, total.round(1).tolist(), strict=True))}")
            summary[f"{c}_picks_per_class"] = total.tolist()
    return summary


def runs_from_logs(paths: list[Path]) -> dict[str, tuple[dict, dict[str, list[dict]]]]:
    """Per data set, the runs printed by earlier invocations (``  NAME ORDER seed S: n:score ...`` lines), so
    seeds run in separate processes can be summarised together."""
    import ast
    import re

    found: dict[str, tuple[dict, dict[str, list[dict]]]] = {}
    pattern = re.compile(r"^  (\S+) (active|random)\s+seed (\d+): ((?:\d+:[\d.]+ ?)+)(?:\s+picked per class (.*))?$")
    for path in paths:
        for line in path.read_text().splitlines():
            match = pattern.match(line)
            if not match:
                continue
            name, order, _, points, picked = match.groups()
            metric = "balanced_accuracy" if name == "bccd" else "foreground_iou"
            curve = [(int(n), {metric: float(v)}) for n, v in (p.split(":") for p in points.split())]
            task, runs = found.setdefault(name, ({"name": name}, {"active": [], "random": []}))
            runs[order].append({"curve": curve, "picked": ast.literal_eval(picked) if picked else []})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--only", choices=("bccd", "dsb"))
    parser.add_argument("--steps", type=int, help="Gradient steps per training (default: 150).")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--per-round", type=int)
    parser.add_argument("--json", type=Path, help="Write every score here.")
    parser.add_argument("--summarise", type=Path, nargs="+", metavar="LOG",
                        help="Only summarise the per-seed lines of earlier runs' printed output.")
    args = parser.parse_args()
    if args.summarise:
        for task, runs in runs_from_logs(args.summarise).values():
            summarise(task, runs, len(runs["random"]))
        return
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tasks = [t for t in (("bccd", bccd_task), ("dsb", dsb_task)) if args.only in (None, t[0])]
    results = {}
    for _, make in tasks:
        began = time.time()
        task = make()
        task.update({k: v for k, v in (("steps", args.steps), ("rounds", args.rounds),
                                       ("per_round", args.per_round)) if v is not None})
        counts = "" if task["pixel"] else " (per class " + ", ".join(
            f"{c} {int(n)}" for c, n in zip(CLASSES, np.bincount(task["pool"][1], minlength=3), strict=True)) + ")"
        print(f"{task['name']}: start {len(task['start'][1])} labelled, pool {len(task['pool'][1])}{counts}, test "
              f"{len(task['test'][1])}; {task['rounds']} rounds of {task['per_round']}; retrained from scratch "
              f"every round, {task['steps']} steps", flush=True)
        runs: dict[str, list] = {"active": [], "random": []}
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            model = train(task, *task["start"], seed)
            first = (model, task["score"](model, *task["test"]))
            for chooser in runs:
                runs[chooser].append(run_order(task, seed, chooser, lambda m: print(m, flush=True), first))
        results[task["name"]] = {"summary": summarise(task, runs, args.seeds), "runs": runs}
        print(f"  ({time.time() - began:.0f} s)", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()

"""Write small but real run folders (one per task) following the run-folder contract, for report tests.

``write_run(parent, task)`` creates ``parent/<task>-run/`` with recipe.yaml (resolved, validates with
``builder.recipe.validate_file``), history.csv/json, metrics.json, evaluation/*.npz, environment.json,
split.json, data_check.json (with one warning), model_summary.json and state.json. No TensorFlow is needed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
import yaml

TASKS = ("classification", "segmentation", "instance_segmentation", "image_to_image")
ALL_FILES = ("recipe.yaml", "history.csv", "history.json", "metrics.json", "evaluation", "environment.json",
             "split.json", "data_check.json", "model_summary.json", "state.json", "events.jsonl")

#: Pixel size (µm) written into the fixture's first training image (read when the recipe has none).
IMAGE_PIXEL_SIZE = 0.5
#: Wall time (s) between the fixture's ``start`` and ``done`` events.
TRAINING_SECONDS = 100.0

_RECIPES: dict[str, dict[str, Any]] = {
    "classification": {
        "name": "tiny-cells", "task": "classification", "description": "Classify cell crops (test fixture).",
        "data": {"layout": "class_folders", "root": "data", "classes": ["round", "elongated", "irregular"],
                 "pixel_size": 0.65},
        "preprocess": {"image_size": 32},
        "model": {"template": "classifier"},
        "train": {"epochs": 12, "batch_size": 8, "loss": "focal"},
    },
    "segmentation": {
        "name": "tiny-semantic", "task": "segmentation", "description": "Nucleus vs background (test fixture).",
        "data": {"layout": "folders", "root": "data", "masks": "masks", "classes": ["background", "nucleus"],
                 "mask_kind": "binary", "pixel_size": 0.32},
        "preprocess": {"patch": {"size": 32, "per_image": 2}, "tile": {"size": 64, "overlap": 8}},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 8,
                                                 "backbone": {"name": "mobilenet_v2", "weights": "imagenet"}}},
        "train": {"epochs": 12, "batch_size": 4, "loss": "cross_entropy+dice",
                  "schedule": {"name": "cosine"}},
    },
    "instance_segmentation": {
        "name": "tiny-instances", "task": "instance_segmentation", "description": "Touching nuclei (fixture).",
        "data": {"layout": "folders", "root": "data", "masks": "masks"},
        "preprocess": {"patch": {"size": 32, "per_image": 2}, "tile": {"size": 64, "overlap": 8}},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 8}},
        "train": {"epochs": 12, "batch_size": 4, "instance_target": "three_class"},
    },
    "image_to_image": {
        "name": "tiny-denoise", "task": "image_to_image", "description": "Denoising (test fixture).",
        "data": {"layout": "noisy_only", "root": "data"},
        "preprocess": {"patch": {"size": 32, "per_image": 2}, "tile": {"size": 64, "overlap": 8}},
        "model": {"template": "restoration"},
        "train": {"epochs": 12, "batch_size": 4, "loss": "mse", "self_supervised": True},
    },
}


def _disks(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """Instance labels (Y, X) int32 with ``n`` non-overlapping-ish disks."""
    labels = np.zeros((size, size), np.int32)
    yy, xx = np.mgrid[:size, :size]
    for k in range(1, n + 1):
        cy, cx = rng.integers(5, size - 5, 2)
        radius = rng.integers(3, 6)
        labels[((yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2) & (labels == 0)] = k
    return labels


def _image_from(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    image = (labels > 0).astype(np.float32) * 0.8 + rng.normal(0.1, 0.05, labels.shape).astype(np.float32)
    return image[..., None]


def _perturb(labels: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A plausible prediction: one object missed, one false object added, a one-pixel shift."""
    pred = np.roll(labels, 1, axis=1).copy()
    ids = [i for i in np.unique(pred) if i]
    if len(ids) > 1:
        pred[pred == ids[0]] = 0
    extra = _disks(rng, size, 1)
    pred[(extra > 0) & (pred == 0)] = pred.max() + 1
    return pred


def _evaluation(task: str, rng: np.random.Generator, n: int, size: int) -> list[dict[str, Any]]:
    samples = []
    for i in range(n):
        if task == "classification":
            label = i % 3
            image = rng.normal(0.3 + 0.2 * label, 0.1, (size, size, 1)).astype(np.float32)
            probabilities = rng.dirichlet(np.ones(3)).astype(np.float32)
            pred = label if i % 4 else (label + 1) % 3
            probabilities[pred] += 1.0
            probabilities /= probabilities.sum()
            samples.append({"name": f"crop_{i:02d}", "image": image, "truth": np.int64(label),
                            "prediction": np.int64(pred), "probabilities": probabilities,
                            "score": float(probabilities[label])})
            continue
        labels = _disks(rng, size, 3 + i % 3)
        image = _image_from(labels, rng)
        if task == "segmentation":
            truth = (labels > 0).astype(np.int32)
            pred = (_perturb(labels, rng, size) > 0).astype(np.int32)
            inter, union = np.sum((truth == 1) & (pred == 1)), np.sum((truth == 1) | (pred == 1))
            score = float(inter / max(union, 1))
        elif task == "instance_segmentation":
            truth = labels
            pred = _perturb(labels, rng, size)
            score = float(np.mean((truth > 0) == (pred > 0)) - 0.1 * (i % 3))
        else:
            clean = np.clip(image * 0.9, 0, 1)
            noisy = clean + rng.normal(0, 0.2, clean.shape).astype(np.float32)
            pred = clean + rng.normal(0, 0.05 * (1 + i), clean.shape).astype(np.float32)
            image, truth = noisy.astype(np.float32), clean.astype(np.float32)
            score = float(10 * np.log10(1.0 / np.mean((pred - truth) ** 2)))
        samples.append({"name": f"img_{i:02d}", "image": image, "truth": truth, "prediction": pred,
                        "score": score})
    return samples


def _history(epochs: int, overfit: bool) -> list[dict[str, float]]:
    rows = []
    for e in range(epochs):
        loss = 1.0 / (1 + 0.5 * e)
        val = 1.05 / (1 + 0.5 * min(e, 5)) + (0.06 * (e - 5) if overfit and e > 5 else 0.0)
        rows.append({"epoch": e + 1, "loss": round(loss, 5), "val_loss": round(val, 5),
                     "score": round(1 - loss / 2, 5), "val_score": round(1 - val / 2, 5),
                     "learning_rate": 1e-3 * 0.5 * (1 + np.cos(np.pi * e / epochs)),
                     "time_s": round(2.0 + 0.1 * (e % 3), 3)})
    return rows


def _metrics(task: str, samples: list[dict[str, Any]], class_names: list[str]) -> dict[str, Any]:
    per_image = [{"name": s["name"], "score": s["score"]} for s in samples]
    for k, row in enumerate(per_image):
        row["group"] = "control" if k % 2 else "treated"
    out: dict[str, Any] = {"task": task, "split": "test", "n_images": len(samples), "per_image": per_image,
                           "class_names": class_names, "per_class": {}, "postprocess": {}}
    if task == "classification":
        truth = np.array([int(s["truth"]) for s in samples])
        pred = np.array([int(s["prediction"]) for s in samples])
        cm = np.zeros((3, 3), int)
        np.add.at(cm, (truth, pred), 1)
        accuracy = float(np.mean(truth == pred))
        recalls = np.diag(cm) / np.maximum(cm.sum(1), 1)
        precisions = np.diag(cm) / np.maximum(cm.sum(0), 1)
        out["confusion_matrix"] = cm.tolist()
        out["headline"] = {"name": "Balanced accuracy", "key": "balanced_accuracy", "value": float(recalls.mean()),
                           "higher_is_better": True}
        out["metrics"] = {"accuracy": accuracy, "balanced_accuracy": float(recalls.mean()), "macro_f1": 0.7,
                          "roc_auc": 0.88}
        out["per_class"] = {c: {"precision": float(precisions[i]), "recall": float(recalls[i]), "f1": 0.7,
                                "support": int(cm[i].sum()), "roc_auc": 0.8 + 0.05 * i}
                            for i, c in enumerate(class_names)}
    elif task == "segmentation":
        iou = float(np.mean([s["score"] for s in samples]))
        out["headline"] = {"name": "Mean IoU", "key": "mean_iou", "value": iou, "higher_is_better": True}
        out["metrics"] = {"pixel_accuracy": 0.95, "mean_iou": iou, "mean_dice": 2 * iou / (1 + iou),
                          "mean_iou_foreground": iou - 0.05, "mean_dice_foreground": 0.7}
        out["per_class"] = {"background": {"iou": 0.97, "dice": 0.98, "pixels": 5000},
                            "nucleus": {"iou": iou, "dice": 2 * iou / (1 + iou), "pixels": 1144}}
    elif task == "instance_segmentation":
        out["headline"] = {"name": "AP@0.5", "key": "ap@0.5", "value": 0.62, "higher_is_better": True}
        out["by_threshold"] = {f"{t:.1f}": {"tp": 10, "fp": 3, "fn": 4, "precision": 0.77 - k / 10,
                                            "recall": 0.71 - k / 10, "ap": 0.62 - k / 8, "f1": 0.74 - k / 10,
                                            "mean_matched_iou": 0.71 + k / 20, "panoptic_quality": 0.52 - k / 9}
                               for k, t in enumerate((0.5, 0.6, 0.7, 0.8, 0.9))}
        out["metrics"] = {"ap_mean": 0.37, "f1_mean": 0.54, "merges": 1.0, "splits": 0.0, "n_true": 14.0,
                          "n_pred": 13.0, "ap@0.5": 0.62, "f1@0.5": 0.74, "mean_matched_iou": 0.71,
                          "panoptic_quality": 0.52}
        for t, row in out["by_threshold"].items():
            out["metrics"].update({f"{k}@{t}": v for k, v in row.items() if k not in ("tp", "fp", "fn")})
        out["baseline"] = {"name": "Otsu threshold + watershed (scikit-image)",
                           "metrics": {**{k: v * 0.5 for k, v in out["metrics"].items()}, "n_pred": 21.0}}
        out["postprocess"] = {"threshold": 0.45, "seed_threshold": 0.6, "min_size": 10,
                              "tuning": {"tuned_on": 2, "score": 0.41, "start_score": 0.33,
                                         "score_name": "ap_mean (validation)"}}
    else:
        psnr = float(np.mean([s["score"] for s in samples]))
        out["headline"] = {"name": "PSNR (dB)", "key": "psnr", "value": psnr, "higher_is_better": True}
        out["metrics"] = {"psnr": psnr, "ssim": 0.81, "pearson": 0.93, "nrmse": 0.12, "gain_psnr": 8.0}
        out["input_baseline"] = {"psnr": psnr - 8.0, "ssim": 0.45, "pearson": 0.7, "nrmse": 0.4}
    return out


def write_run(parent: str | Path, task: str, *, n_test: int = 6, size: int = 32, epochs: int = 12,
              overfit: bool = True, skip: tuple[str, ...] = (), name: str | None = None,
              recipe_changes: dict[str, Any] | None = None, seed: int = 0) -> Path:
    """Write a run folder for ``task`` under ``parent`` and return its path.

    Parameters
    ----------
    parent : str or Path
        Folder that receives ``<name or task>-run/``.
    task : str
        One of :data:`TASKS`.
    n_test, size, epochs : int
        Number of evaluation samples, their side in pixels, and the number of history rows.
    overfit : bool
        Make the validation loss rise while the training loss keeps falling after epoch 6.
    skip : tuple of str
        Files (names from :data:`ALL_FILES`) that are not written, to test missing-file tolerance.
    recipe_changes : dict, optional
        Top-level recipe sections merged (one level deep) into the fixture recipe, e.g. for compare tests.
    """
    from builder.recipe import recipe_from_dict

    rng = np.random.default_rng(seed)
    run = Path(parent) / f"{name or task}-run"
    (run / "checkpoints").mkdir(parents=True, exist_ok=True)
    raw = json.loads(json.dumps(_RECIPES[task]))
    for key, value in (recipe_changes or {}).items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    recipe = recipe_from_dict(raw)
    class_names = list(recipe.data.classes or [])
    files: dict[str, Any] = {}
    files["recipe.yaml"] = yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False)
    history = _history(epochs, overfit)
    files["history.json"] = history
    samples = _evaluation(task, rng, n_test, size)
    files["metrics.json"] = _metrics(task, samples, class_names)
    files["environment.json"] = {"python": "3.11.9", "tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6",
                                 "cellwright": "0.1.0", "platform": "Linux-x86_64", "device": "CPU", "gpus": [],
                                 "cpu": "Test CPU", "cpu_count": 2}
    train_names = [f"train_{i:02d}" for i in range(12)]
    data_root = run.parent / f"{name or task}-data"
    first_image = data_root / "images" / "train_00.tif"
    first_image.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(first_image, np.zeros((16, 16), np.uint16), imagej=True, metadata={"unit": "um"},
                     resolution=(1 / IMAGE_PIXEL_SIZE, 1 / IMAGE_PIXEL_SIZE))
    files["split.json"] = {"layout": raw["data"]["layout"], "root": str(data_root),
                           "splits": {"train": [{"image_path": str(first_image)}]},
                           "train": train_names, "validation": ["val_00", "val_01"],
                           "test": [s["name"] for s in samples],
                           "files": {f"images/{n}.tif": f"{i:064x}" for i, n in enumerate(train_names)}}
    events = [{"event": "start", "time": 1000.0}]
    events += [{"event": "batch", "time": 1000.0 + e, "step": 1} for e in range(3)]
    events += [{"event": "epoch", "time": 1000.0 + 8 * (e + 1), "epoch": e + 1, "epoch_time_s": 8.0}
               for e in range(epochs)]
    events.append({"event": "done", "time": 1000.0 + TRAINING_SECONDS})
    files["events.jsonl"] = "".join(json.dumps(e) + "\n" for e in events)
    files["data_check.json"] = [{"where": "data/images/train_03.tif", "what": "This image is almost empty "
                                 "(99% of pixels are 0).", "fix": "Check the file or remove it.",
                                 "severity": "warning", "key": "", "line": None, "column": None}]
    backbone = ({"name": "mobilenet_v2", "weights": "imagenet", "params": 2257984}
                if task == "segmentation" else None)
    files["model_summary.json"] = {
        "nodes": [{"id": "input", "block": "input", "output_shape": [None, size, size, 1], "params": 0},
                  {"id": "enc1", "block": "conv_block", "output_shape": [None, size, size, 8], "params": 664},
                  {"id": "head", "block": "head", "output_shape": [None, size, size, 2], "params": 18}],
        "total_params": 2300000 if backbone else 1234, "trainable_params": 42000 if backbone else 1234,
        "backbone": backbone, "frozen_layers": 150 if backbone else 0}
    files["state.json"] = {"epoch": epochs, "best_value": min(r["val_loss"] for r in history),
                           "seeds": {"train": 42, "split": 42}}
    for file_name, content in files.items():
        if file_name in skip:
            continue
        path = run / file_name
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=1), encoding="utf-8")
    if "history.csv" not in skip:
        with open(run / "history.csv", "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(history[0]))
            writer.writeheader()
            writer.writerows(history)
    if "evaluation" not in skip:
        (run / "evaluation").mkdir(exist_ok=True)
        for sample in samples:
            arrays = {k: np.asarray(v) for k, v in sample.items() if k != "name"}
            np.savez_compressed(run / "evaluation" / f"{sample['name']}.npz", **arrays)
    return run

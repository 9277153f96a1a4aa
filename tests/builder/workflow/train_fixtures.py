"""Tiny demo data sets and recipes for end-to-end training tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from builder.data.demo import make_demo

TASK_DEMO = {
    "classification": ("cells", {"layout": "class_folders"}),
    "segmentation": ("nuclei", {"layout": "folders", "masks": "masks", "mask_kind": "binary",
                                "classes": ["background", "nucleus"]}),
    "instance_segmentation": ("nuclei", {"layout": "folders", "masks": "masks"}),
    "image_to_image": ("denoise", {"layout": "paired", "targets": "targets"}),
    "tracking": ("timelapse", {"layout": "ctc"}),
}

TEMPLATE = {
    "classification": {"template": "classifier", "params": {"depth": 2, "base_filters": 4}},
    "segmentation": {"template": "unet", "params": {"depth": 2, "base_filters": 4}},
    "instance_segmentation": {"template": "unet", "params": {"depth": 2, "base_filters": 4}},
    "image_to_image": {"template": "restoration", "params": {"depth": 2, "base_filters": 4}},
    "tracking": {"template": "unet", "params": {"depth": 2, "base_filters": 4}},
}


def tiny_recipe(tmp: Path, task: str, *, epochs: int = 1, n_images: int = 8, extra_train: dict | None = None,
                data_dir: Path | None = None) -> Path:
    """Write demo data and a recipe that trains in seconds; return the recipe path."""
    kind, data = TASK_DEMO[task]
    root = data_dir or tmp / "data"
    if not root.exists():
        if kind == "cells":
            make_demo(kind, root, n_images=n_images, size=32, seed=0)
        else:
            make_demo(kind, root, n_images=max(n_images, 12) if kind == "timelapse" else n_images, size=48,
                      seed=0)
    recipe = {
        "cellwright": 1,
        "name": f"tiny-{task}",
        "task": task,
        "data": {"root": str(root), **data, "split": {"mode": "random", "validation": 0.25, "test": 0.25,
                                                      "seed": 0}},
        "preprocess": {"patch": {"size": 32, "per_image": 2}, "tile": {"size": 32, "overlap": 8},
                       **({"image_size": 32} if task == "classification" else {})},
        "model": TEMPLATE[task],
        "train": {"epochs": epochs, "batch_size": 4, "seed": 3, "steps_per_epoch": 2,
                  "early_stopping": {"enabled": False}, **(extra_train or {})},
        "report": {"enabled": False},
        "export": {"formats": []},
    }
    path = tmp / f"{task}.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path

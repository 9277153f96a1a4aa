"""Helpers shared by the data tests: tiny files written with tifffile / numpy, recipes from dicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from builder.recipe.schema import Recipe


def make_recipe(task: str = "segmentation", **sections) -> Recipe:
    """A recipe built from plain dicts (the loader is not needed)."""
    return Recipe(name="test", task=task, **sections)


def write_seg_pair(root: Path, name: str, *, shape=(32, 32), seed: int = 0, n_objects: int = 2, dtype=np.uint16,
                   mask: np.ndarray | None = None) -> tuple[Path, Path]:
    """Write images/NAME.tif and masks/NAME.tif with ``n_objects`` bright squares labelled 1..n."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    if mask is None:
        mask = np.zeros(shape, np.uint16)
        for k in range(1, n_objects + 1):
            y, x = rng.integers(0, shape[0] - 8), rng.integers(0, shape[1] - 8)
            mask[y:y + 6, x:x + 6] = k
    image = (rng.random(mask.shape[:2]) * 50 + (mask > 0) * 400).astype(dtype)
    tifffile.imwrite(root / "images" / f"{name}.tif", image)
    tifffile.imwrite(root / "masks" / f"{name}.tif", mask)
    return root / "images" / f"{name}.tif", root / "masks" / f"{name}.tif"


def write_seg_folder(root: Path, n: int = 6) -> Path:
    """``n`` clean image/mask pairs, 32x32 uint16."""
    for i in range(n):
        write_seg_pair(root, f"img{i}", seed=i)
    return root

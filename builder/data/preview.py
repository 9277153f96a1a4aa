"""A PNG grid of augmented training samples, to check that augmentation looks sensible (``preview-augment``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from builder.data.augment import augment_numpy
from builder.data.layouts import discover
from builder.data.patches import random_patches
from builder.data.pipeline import load_split
from builder.data.preprocess import normalise_input
from builder.errors import DataError
from builder.tasks import get_task

if TYPE_CHECKING:
    from builder.recipe import Recipe

_COLOURS = np.array([[1.0, 0.2, 0.2], [0.2, 1.0, 0.3], [0.3, 0.5, 1.0], [1.0, 0.9, 0.1], [1.0, 0.3, 1.0],
                     [0.1, 1.0, 1.0]])


def write_augment_preview(recipe: Recipe, base_dir: str | Path, out: str | Path, *, rows: int = 4, columns: int = 5,
                          seed: int = 0) -> Path:
    """Write a grid: one row per training patch, the original first, then ``columns`` augmented versions.

    Masks are drawn as coloured outlines over the image (image-to-image targets are not drawn).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dataset = discover(recipe, base_dir)
    samples = dataset.splits["train"][:rows] or [s for _, s in dataset.samples()][:rows]
    if not samples:
        raise DataError(str(dataset.root), "no training images to preview.", "Run 'cellwright check' first.")
    cfg, pre = recipe.preprocess.normalize, recipe.preprocess
    task = get_task(recipe.task)
    kind = None if task.whole_image_input else ("image" if task.image_target else "mask")
    size = (pre.image_size or pre.patch.size) if task.whole_image_input else pre.patch.size
    loaded = load_split(samples, recipe.data, pre, size=(size, size) if task.whole_image_input else None,
                        classes=list(recipe.data.classes or dataset.classes or []))
    fig, axes = plt.subplots(len(samples), columns + 1, figsize=(1.8 * (columns + 1), 1.8 * len(samples)),
                             squeeze=False)
    for r, image in enumerate(loaded.images):
        image = normalise_input(image, cfg)[0]
        target = loaded.targets[r] if loaded.targets else None
        if task.whole_image_input:
            patch, tpatch = image, None
        else:
            p, t = random_patches(image, target, size, 1, seed=seed + r,
                                  foreground_fraction=pre.patch.foreground_fraction if kind == "mask" else 0.0,
                                  balance=pre.patch.balance)
            patch, tpatch = p[0], (None if t is None else t[0])
        lo, hi = np.percentile(patch, [1, 99.8])
        for c in range(columns + 1):
            if c == 0:
                aug, aug_t = patch, tpatch
            else:
                aug, aug_t = augment_numpy(recipe.augment, patch, tpatch, seed=seed, index=r * 1000 + c,
                                           target_kind=kind, intensity=kind != "image")
            ax = axes[r, c]
            ax.imshow(_render(aug, aug_t if kind == "mask" else None, lo, hi), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title("original" if c == 0 else f"augmented {c}", fontsize=8)
            if c == 0 and task.uses_labels and loaded.labels:
                ax.set_ylabel(str((dataset.classes or [])[loaded.labels[r]]), fontsize=8)
    fig.suptitle(f"{recipe.name}: augmentation preview (mask outlines in colour)", fontsize=9)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _render(image: np.ndarray, mask: np.ndarray | None, lo: float, hi: float) -> np.ndarray:
    """RGB float image in [0, 1]: grey (or the first three channels) with mask outlines coloured by label."""
    scaled = np.clip((image - lo) / max(hi - lo, 1e-6), 0, 1)
    rgb = scaled[..., :3] if scaled.shape[-1] >= 3 else np.repeat(scaled[..., :1], 3, axis=-1)
    if scaled.shape[-1] == 2:
        rgb = np.stack([scaled[..., 1], scaled[..., 0], scaled[..., 1]], axis=-1)
    if mask is not None:
        from skimage.segmentation import find_boundaries

        labels = mask[..., 0]
        edges = find_boundaries(labels, mode="inner") & (labels > 0)
        rgb = rgb.copy()
        rgb[edges] = _COLOURS[labels[edges] % len(_COLOURS)]
    return rgb

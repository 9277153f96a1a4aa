"""Nuclei-like test data: the DSB2018 image (../shared/realdata) when present, else a constructed one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

DSB = Path(__file__).resolve().parents[4] / "shared" / "realdata" / "dsb2018_one_image"


def nuclei_image() -> np.ndarray:
    """(Y, X) float32 nuclei image: the DSB2018 image when present, else blurred random discs (uint16 scale)."""
    if (DSB / "img2d.tif").exists():
        image = tifffile.imread(DSB / "img2d.tif").astype(np.float32)
        return image[..., :3].mean(axis=-1) if image.ndim == 3 else image
    from scipy import ndimage as ndi
    from skimage.draw import disk

    rng = np.random.default_rng(1)
    image = np.zeros((203, 251), np.float32)
    for _ in range(60):
        rr, cc = disk((rng.uniform(0, 203), rng.uniform(0, 251)), rng.uniform(4, 11), shape=image.shape)
        image[rr, cc] = rng.uniform(800, 3000)
    return ndi.gaussian_filter(image, 1.5) + rng.normal(200, 20, image.shape).astype(np.float32)


def three_class_output(shape: tuple[int, int]) -> np.ndarray:
    """Smooth background / boundary / interior probabilities of the nuclei image's bright objects."""
    from scipy import ndimage as ndi
    from skimage.filters import threshold_otsu

    from builder.data.linear_resize import linear_resize
    from builder.tasks.instances import three_class_target

    image = nuclei_image()
    labels, _ = ndi.label(image > threshold_otsu(image))
    onehot = np.eye(3, dtype=np.float32)[three_class_target(labels)]
    soft = ndi.gaussian_filter(onehot, (1.2, 1.2, 0))
    return linear_resize(soft / soft.sum(axis=-1, keepdims=True), shape)

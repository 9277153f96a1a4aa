"""The unlabelled images of a pre-training job as one ``(N, S, S, C)`` array, normalised like training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from builder.errors import DataError
from builder.recipe.sections.preprocess import PreprocessSection


def find_images(folder: Path) -> list[Path]:
    """Image files in ``folder`` and its sub-folders (class folders are fine: their names are ignored), sorted."""
    from builder.data.readers import is_image_file

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(str(folder), "The folder of unlabelled images does not exist.",
                        "Give a folder of images (TIFF, PNG, JPEG, ...), e.g. --images data/unlabelled.")
    found = sorted(p for p in folder.rglob("*") if is_image_file(p) and p.is_file())
    if not found:
        raise DataError(str(folder), "The folder holds no image files. Expected: TIFF, PNG, JPEG or .npy files.",
                        "Put the unlabelled images in this folder (sub-folders are searched too).")
    return found


def load_unlabelled(paths: list[Path], *, size: int, resize: bool, pre: PreprocessSection | None = None,
                    channels: list[str] | None = None, crops_per_image: int = 8,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """Normalised ``size`` x ``size`` inputs from ``paths``: each image resized (``resize``) or cut into crops.

    Parameters
    ----------
    paths : list of Path
        Image files, read with :func:`builder.data.readers.read_image`.
    size : int
        Side of every returned image, in pixels.
    resize : bool
        Resize whole images to ``size`` (cell crops for a classifier); else take ``crops_per_image`` random
        crops of each (large images for segmentation; smaller images are padded by reflection).
    pre : PreprocessSection, optional
        The recipe's preprocessing (normalisation, resampling); the defaults when left out.
    channels : list of str, optional
        The recipe's ``data.channels``.

    Returns
    -------
    (N, size, size, C) float32 ndarray

    Raises
    ------
    DataError
        If the images do not all have the same number of channels.
    """
    from builder.data.preprocess import preprocess_image
    from builder.data.readers import read_image

    pre = pre or PreprocessSection()
    rng = rng or np.random.default_rng(0)
    out: list[np.ndarray] = []
    first: tuple[Path, int] | None = None
    for path in paths:
        array = read_image(path, channels=channels).array
        if array.ndim == 4:  # a time-lapse: every frame is an image
            frames = list(array)
        else:
            frames = [array]
        for frame in frames:
            if first is None:
                first = (path, frame.shape[-1])
            elif frame.shape[-1] != first[1]:
                raise DataError(str(path), f"The image has {frame.shape[-1]} channel(s) but {first[0].name} has "
                                f"{first[1]}. Expected: the same channels in every image.",
                                "Keep only images with the same channels in the folder, or set data.channels.")
            if resize:
                x, _ = preprocess_image(frame, pre, size=(size, size), where=str(path))
                out.append(x)
                continue
            x, _ = preprocess_image(frame, pre, where=str(path))
            pad_y, pad_x = max(0, size - x.shape[0]), max(0, size - x.shape[1])
            if pad_y or pad_x:
                x = np.pad(x, ((0, pad_y), (0, pad_x), (0, 0)), mode="reflect" if min(x.shape[:2]) > 1 else "edge")
            for _ in range(crops_per_image):
                y0 = int(rng.integers(0, x.shape[0] - size + 1))
                x0 = int(rng.integers(0, x.shape[1] - size + 1))
                out.append(x[y0:y0 + size, x0:x0 + size])
    return np.stack(out).astype(np.float32)

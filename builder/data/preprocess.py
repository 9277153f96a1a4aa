"""The one preprocessing path of Cellwright: read -> channel selection -> resample -> (resize) -> normalise.

Training (:mod:`builder.data.pipeline`) and inference (:mod:`builder.workflow.inference`) both call these functions,
so a network always sees new images exactly the way it saw its training images. Training splits the path in two
(:func:`to_network_grid` on every image, then per-dataset statistics, then :func:`normalise_input`); inference runs
:func:`preprocess_image` on one image at a time with the statistics training recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from builder.data.normalize import NormStats, apply_stats, resample, stats_from_config
from builder.data.readers import ImageData, read_image

if TYPE_CHECKING:
    from builder.recipe.sections.data import DataSection
    from builder.recipe.sections.preprocess import Normalize, PreprocessSection


def read_input(path: str | Path, data: DataSection) -> ImageData:
    """Read one input image and keep the recipe's channels (``data.channels``, named by ``data.file_channels``).

    Parameters
    ----------
    path : str or Path
        Image file or OME-Zarr folder.
    data : DataSection
        The recipe's ``data:`` section.

    Returns
    -------
    ImageData
        ``Y,X,C`` (or ``T,Y,X,C``) pixels in the file's dtype, with pixel size and channel names.
    """
    return read_image(path, channels=data.channels, file_channels=data.file_channels)


def resize_yx(image: np.ndarray, shape: tuple[int, int], *, order: int = 1) -> np.ndarray:
    """Resize the first two axes of ``image`` to ``shape`` (order 1 for images, 0 for labels).

    Parameters
    ----------
    image : (Y, X[, ...]) ndarray
    shape : (int, int)
    order : int
        Interpolation order; images come back float32, labels keep their dtype. Order 1 (linear, anti-aliased
        when shrinking) is :func:`builder.data.linear_resize.linear_resize`, equal to scikit-image's ``resize``.

    Returns
    -------
    (shape[0], shape[1][, ...]) ndarray
        ``image`` itself when it already has that size.
    """
    shape = (int(shape[0]), int(shape[1]))
    if tuple(image.shape[:2]) == shape:
        return image
    if order == 1:
        from builder.data.linear_resize import linear_resize

        return linear_resize(image, shape, anti_aliasing=True)
    from skimage.transform import resize

    out = resize(image.astype(np.float32 if order else image.dtype), (*shape, *image.shape[2:]), order=order,
                 preserve_range=True, anti_aliasing=order > 0, mode="reflect")
    return out.astype(np.float32) if order else out.astype(image.dtype)


def grid_factor(pre: PreprocessSection, *, pixel_size: float | None = None, diameter: float | None = None,
                where: str = "image") -> float:
    """How much an image is enlarged (> 1) or shrunk (< 1) on its way to the network.

    ``preprocess.resample_to``: the image's pixel size over the target pixel size (DataError when unknown);
    ``preprocess.object_diameter``: ``target_diameter`` over the objects' diameter (``diameter``, the image's own,
    when given, else the recipe's number); otherwise 1.
    """
    if pre.resample_to:
        if pixel_size is None:
            resample(np.zeros((1, 1, 1), np.float32), None, pre.resample_to, where=where)  # raises the DataError
        return float(pixel_size) / float(pre.resample_to)  # type: ignore[arg-type]
    if pre.object_diameter is not None:
        if diameter is None and pre.object_diameter == "auto":
            from builder.errors import DataError

            raise DataError("preprocess.object_diameter", "is 'auto' but no measured diameter was given.",
                            "Train the model first (training measures it), or give the diameter in pixels.")
        d = float(diameter if diameter is not None else pre.object_diameter)
        return float(pre.target_diameter) / d
    return 1.0


def to_network_grid(
    image: np.ndarray,
    pre: PreprocessSection,
    *,
    pixel_size: float | None = None,
    size: tuple[int, int] | None = None,
    order: int = 1,
    where: str = "image",
    diameter: float | None = None,
) -> np.ndarray:
    """Bring one ``Y,X,C`` image onto the pixel grid the network works on.

    Parameters
    ----------
    image : (Y, X, C) ndarray
        Raw pixel values (or a mask / target).
    pre : PreprocessSection
        The recipe's ``preprocess:`` section (``resample_to``).
    pixel_size : float, optional
        Pixel size of ``image`` in µm; needed when ``pre.resample_to`` is set.
    size : (int, int), optional
        Resize to this size after resampling (whole-image models such as classifiers).
    order : int
        1 for images and targets (returned as float32), 0 for masks (dtype kept).
    where : str
        Names the image in errors.
    diameter : float, optional
        Object diameter (px) in ``image`` when ``pre.object_diameter`` is set (default: the recipe's number).

    Returns
    -------
    (Y', X', C) ndarray

    Raises
    ------
    DataError
        If ``pre.resample_to`` is set and the pixel size is unknown.
    """
    a = image if order == 0 else np.asarray(image, np.float32)
    factor = grid_factor(pre, pixel_size=pixel_size, diameter=diameter, where=where)
    if abs(factor - 1.0) > 1e-6:
        a = resample(a, factor, 1.0, order=order, where=where)
    if size is not None:
        a = resize_yx(a, size, order=order)
    return a if order == 0 else np.asarray(a, np.float32)


def normalise_input(image: np.ndarray, cfg: Normalize, stats: NormStats | None = None) -> tuple[np.ndarray, NormStats]:
    """Normalise one image with the recipe's ``preprocess.normalize`` (or ``target_normalize``) section.

    Parameters
    ----------
    image : (Y, X, C) ndarray
    cfg : Normalize
    stats : NormStats, optional
        Per-dataset statistics (from training); computed from ``image`` alone when left out.

    Returns
    -------
    x : (Y, X, C) float32
    stats : NormStats
        The statistics used.
    """
    used = stats if stats is not None else stats_from_config([image], cfg)
    return apply_stats(image, used, clip=cfg.clip), used


def dataset_stats(images: list[np.ndarray], cfg: Normalize) -> NormStats | None:
    """Statistics pooled over the training images when ``cfg.per`` is ``'dataset'``; None for per-image."""
    return stats_from_config(images, cfg) if cfg.per == "dataset" else None


def preprocess_image(
    image: np.ndarray,
    pre: PreprocessSection,
    *,
    pixel_size: float | None = None,
    size: tuple[int, int] | None = None,
    stats: NormStats | None = None,
    where: str = "image",
    diameter: float | None = None,
) -> tuple[np.ndarray, NormStats]:
    """Resample (and resize) then normalise one raw ``Y,X,C`` image: the whole path of :mod:`preprocess`.

    Parameters
    ----------
    image : (Y, X, C) ndarray
        Raw pixel values with the recipe's channels (see :func:`read_input`).
    pre : PreprocessSection
    pixel_size, size, where, diameter
        See :func:`to_network_grid`.
    stats : NormStats, optional
        See :func:`normalise_input`.

    Returns
    -------
    x : (Y', X', C) float32
        The network input.
    stats : NormStats
        The normalisation statistics used.
    """
    grid = to_network_grid(image, pre, pixel_size=pixel_size, size=size, where=where, diameter=diameter)
    return normalise_input(grid, pre.normalize, stats)

"""Random square masks for masked-image reconstruction (plain NumPy, no TensorFlow)."""

from __future__ import annotations

import numpy as np


def patch_masks(n: int, shape: tuple[int, int], *, patch: int = 8, ratio: float = 0.5,
                rng: np.random.Generator | None = None) -> np.ndarray:
    """Masks that hide a random ``ratio`` of the ``patch`` x ``patch`` squares of each image.

    Parameters
    ----------
    n : int
        Number of masks.
    shape : (Y, X) tuple of int
        Image size; squares at the right and bottom edges may be cut off.
    patch : int
        Side of one square in pixels.
    ratio : float
        Fraction of squares hidden, in (0, 1).
    rng : numpy.random.Generator, optional

    Returns
    -------
    (n, Y, X, 1) float32 ndarray
        1 where the image is hidden, 0 where it is shown.

    Examples
    --------
    >>> m = patch_masks(2, (16, 16), patch=8, ratio=0.5, rng=np.random.default_rng(0))
    >>> m.shape, float(m.mean())
    ((2, 16, 16, 1), 0.5)
    """
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"`ratio` must be between 0 and 1 (exclusive). Received: ratio={ratio}")
    if patch < 1:
        raise ValueError(f"`patch` must be >= 1. Received: patch={patch}")
    rng = rng or np.random.default_rng()
    gy, gx = -(-shape[0] // patch), -(-shape[1] // patch)
    cells = gy * gx
    hidden = max(1, round(cells * ratio))
    order = np.argsort(rng.random((n, cells)), axis=1)
    grid = np.zeros((n, cells), np.float32)
    np.put_along_axis(grid, order[:, :hidden], 1.0, axis=1)
    cell_grid = grid.reshape(n, gy, gx)
    full = np.repeat(np.repeat(cell_grid, patch, axis=1), patch, axis=2)[:, : shape[0], : shape[1]]
    return full[..., None]


def apply_masks(images: np.ndarray, masks: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """``images`` (N, Y, X, C) with the hidden pixels of ``masks`` (N, Y, X, 1) set to ``fill``."""
    return (images * (1.0 - masks) + fill * masks).astype(np.float32)


def random_flips(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image of (N, Y, X, C) ``images`` flipped and rotated by a random multiple of 90 degrees (square only)."""
    out = images.copy()
    for i in range(len(out)):
        if rng.random() < 0.5:
            out[i] = out[i, :, ::-1]
        if rng.random() < 0.5:
            out[i] = out[i, ::-1]
        if out.shape[1] == out.shape[2]:
            out[i] = np.rot90(out[i], int(rng.integers(4)))
    return out

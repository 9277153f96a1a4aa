"""A pixel output kept on the network's grid, standing for the output at the image's own size.

Post-processing that can work on the network's grid and draw its result at full resolution (star-convex
polygons, :mod:`builder.tasks.star_nms`) reads :attr:`ZoomedOutput.grid`, :attr:`~ZoomedOutput.shape` and
:attr:`~ZoomedOutput.zoom`; anything else that asks for the array (``np.asarray(output)``, indexing) gets the
output interpolated to the image's size, computed once on first use. Interpolating all 33 channels of a star
output of a 1024 x 1344 image took 0.5 s, more than the network itself at object scale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class ZoomedOutput:
    """The network output ``grid`` (Y', X', K) of an image of size ``shape`` (Y, X).

    Parameters
    ----------
    grid : (Y', X', K) float32 array
        The output on the network's grid (values measured in pixels are in pixels of that grid).
    shape : (int, int)
        The image's size.
    enlarge : callable
        ``enlarge(grid) -> (Y, X, K)``: the output at the image's size (interpolated, pixel values scaled).
    """

    def __init__(self, grid: np.ndarray, shape: tuple[int, int], enlarge: Callable[[np.ndarray], np.ndarray]):
        self.grid = np.asarray(grid, np.float32)
        self.image_shape = (int(shape[0]), int(shape[1]))
        self._enlarge = enlarge
        self._full: np.ndarray | None = None

    @property
    def zoom(self) -> tuple[float, float]:
        """Image pixels per grid pixel along Y and X."""
        return (self.image_shape[0] / self.grid.shape[0], self.image_shape[1] / self.grid.shape[1])

    @property
    def shape(self) -> tuple[int, ...]:
        """The full-size output's shape (Y, X, K)."""
        return (*self.image_shape, *self.grid.shape[2:])

    @property
    def ndim(self) -> int:
        return self.grid.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.grid.dtype

    def full(self) -> np.ndarray:
        """The output at the image's size (interpolated on first use, then kept)."""
        if self._full is None:
            self._full = np.asarray(self._enlarge(self.grid), np.float32)
        return self._full

    def channel(self, index: int) -> np.ndarray:
        """One channel (Y, X) at the image's size, interpolating that channel alone: values as the network gave
        them (a channel measured in pixels is not rescaled; use :meth:`full` for those)."""
        from builder.data.preprocess import resize_yx

        return np.asarray(resize_yx(self.grid[..., index], self.image_shape, order=1), np.float32)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        full = self.full()
        return full if dtype is None else full.astype(dtype)

    def __getitem__(self, key: Any) -> Any:
        return self.full()[key]

    def astype(self, dtype: Any) -> np.ndarray:
        return self.full().astype(dtype)


def full_size(output: Any) -> np.ndarray:
    """``output`` as an array at the image's size (a :class:`ZoomedOutput` is interpolated)."""
    return output.full() if isinstance(output, ZoomedOutput) else np.asarray(output)

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
        The output on the network's grid (values measured in pixels are in pixels of that grid); with ``repeat``,
        that output sampled every ``repeat`` pixels (a :class:`CoarseOutput`'s array).
    shape : (int, int)
        The image's size.
    enlarge : callable
        ``enlarge(grid) -> (Y, X, K)``: the output at the image's size (interpolated, pixel values scaled), given
        the output on the network's grid (:attr:`grid`, repeated when ``repeat`` > 1).
    repeat : int
        1, or the factor of a network whose last layer repeats each output pixel ``repeat`` x ``repeat`` times
        (the U-Net's ``grid``): ``grid`` is then the output before that repeat, and :attr:`grid` the repeated one.
    grid_shape : (int, int), optional
        With ``repeat``: the network grid's size (Y', X'), where the repeated output is cut.
    """

    def __init__(self, grid: np.ndarray, shape: tuple[int, int], enlarge: Callable[[np.ndarray], np.ndarray],
                 *, repeat: int = 1, grid_shape: tuple[int, int] | None = None):
        self.repeat = int(repeat)
        self.coarse = np.asarray(grid, np.float32)
        self._grid: np.ndarray | None = None if self.repeat > 1 else self.coarse
        size = grid_shape if grid_shape is not None and self.repeat > 1 else self.coarse.shape[:2]
        self.grid_shape = (int(size[0]), int(size[1]))
        self.image_shape = (int(shape[0]), int(shape[1]))
        self._enlarge = enlarge
        self._full: np.ndarray | None = None

    @property
    def grid(self) -> np.ndarray:
        """The output on the network's grid (repeated from :attr:`coarse` on first use when ``repeat`` > 1)."""
        if self._grid is None:
            self._grid = repeat_yx(self.coarse, self.repeat, self.grid_shape)
        return self._grid

    @property
    def zoom(self) -> tuple[float, float]:
        """Image pixels per grid pixel along Y and X."""
        return (self.image_shape[0] / self.grid_shape[0], self.image_shape[1] / self.grid_shape[1])

    @property
    def shape(self) -> tuple[int, ...]:
        """The full-size output's shape (Y, X, K)."""
        return (*self.image_shape, *self.coarse.shape[2:])

    @property
    def ndim(self) -> int:
        return self.coarse.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.coarse.dtype

    def full(self) -> np.ndarray:
        """The output at the image's size (interpolated on first use, then kept)."""
        if self._full is None:
            self._full = np.asarray(self._enlarge(self.grid), np.float32)
        return self._full

    def channel(self, index: int) -> np.ndarray:
        """One channel (Y, X) at the image's size, interpolating that channel alone: values as the network gave
        them (a channel measured in pixels is not rescaled; use :meth:`full` for those)."""
        from builder.data.preprocess import resize_yx

        if self._grid is None:  # repeat that channel alone, not all of them
            grid = repeat_yx(self.coarse[..., index], self.repeat, self.grid_shape)
        else:
            grid = self._grid[..., index]
        return np.asarray(resize_yx(grid, self.image_shape, order=1), np.float32)

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


def repeat_yx(coarse: np.ndarray, repeat: int, shape: tuple[int, int]) -> np.ndarray:
    """``coarse`` (Y'', X'', ...) with each pixel repeated ``repeat`` x ``repeat`` times, cut to ``shape`` (Y', X'):
    what a network's nearest-neighbour repeat layer outputs."""
    out = np.repeat(np.repeat(coarse, repeat, axis=0), repeat, axis=1)
    return np.ascontiguousarray(out[: shape[0], : shape[1]])


class CoarseOutput:
    """The output of a network whose last layer repeats each pixel ``repeat`` x ``repeat`` times (the U-Net's
    ``grid``), taken before that repeat: the same numbers, ``repeat`` x ``repeat`` times fewer of them.

    Prediction asks such a network for this output (:func:`builder.workflow.inference.network_output` with
    ``coarse=True``) when post-processing can read it (star-convex polygons, through a :class:`ZoomedOutput`);
    :meth:`array` gives the repeated output, as the whole network would.

    Parameters
    ----------
    coarse : (Y'', X'', K) float32 array
        The output before the repeat, covering at least ``grid_shape`` once repeated.
    repeat : int
    grid_shape : (int, int)
        The network input's size (Y', X'): the repeated output is cut to it.
    """

    def __init__(self, coarse: np.ndarray, repeat: int, grid_shape: tuple[int, int]):
        self.coarse = np.asarray(coarse, np.float32)
        self.repeat = int(repeat)
        self.grid_shape = (int(grid_shape[0]), int(grid_shape[1]))

    @property
    def shape(self) -> tuple[int, ...]:
        return (*self.grid_shape, *self.coarse.shape[2:])

    def array(self) -> np.ndarray:
        """The output the whole network gives (each pixel repeated, cut to the network input's size)."""
        return repeat_yx(self.coarse, self.repeat, self.grid_shape)

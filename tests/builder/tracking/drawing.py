"""Constructed time-lapses for tracking tests: discs at given positions per frame."""

from __future__ import annotations

import numpy as np


def draw(frames: list[list[tuple[float, float, float]]], shape: tuple[int, int] = (96, 96)) -> np.ndarray:
    """(T, Y, X) int32 labels; ``frames[t]`` lists (y, x, radius) discs, labelled 1, 2, ... in list order."""
    yy, xx = np.indices(shape)
    out = np.zeros((len(frames), *shape), np.int32)
    for t, discs in enumerate(frames):
        for k, (y, x, r) in enumerate(discs, start=1):
            out[t][(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = k
    return out

"""Shapes with known geometry shared by the task tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def make_touching_disks(size: int = 48, r: int = 9, gap: int = 16) -> np.ndarray:
    """Two disks whose centres are ``gap`` apart (< 2r, so they touch); the overlap goes to the nearer centre."""
    yy, xx = np.mgrid[:size, :size]
    c = size // 2
    d1 = np.hypot(yy - c, xx - (c - gap // 2))
    d2 = np.hypot(yy - c, xx - (c + gap // 2))
    labels = np.zeros((size, size), np.int32)
    labels[(d1 <= r) & (d1 <= d2)] = 1
    labels[(d2 <= r) & (d2 < d1)] = 2
    return labels


@pytest.fixture
def touching_disks() -> Callable[..., np.ndarray]:
    return make_touching_disks

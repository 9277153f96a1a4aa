"""Small helpers for static shape arithmetic (no TensorFlow)."""

from __future__ import annotations

import math

from builder.blocks.registry import Shape


def conv_size(n: int | None, kernel: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    """Output length of a convolution or pooling along one axis (``None`` stays unknown)."""
    if n is None:
        return None
    if padding == "same":
        return math.ceil(n / stride)
    span = (kernel - 1) * dilation + 1
    return (n - span) // stride + 1


def spatial(shape: Shape) -> tuple:
    return tuple(shape[:2])


def same_spatial(a: Shape, b: Shape) -> bool:
    """``True`` unless both sizes are known and differ."""
    return all(x is None or y is None or x == y for x, y in zip(a[:2], b[:2], strict=False))


def mul(n: int | None, factor: int) -> int | None:
    return None if n is None else n * factor

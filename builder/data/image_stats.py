"""Normalisation statistics of one large image without a floating-point copy of it.

:func:`builder.data.normalize.compute_stats` works on a float64 copy (8 bytes per pixel and channel, plus the
sort inside ``np.percentile``). For the 8/16-bit images microscopes write, percentiles are exact from a histogram
counted in row blocks, and min/max, mean and standard deviation are accumulated block by block, so memory stays
at one block whatever the image size. The result equals ``compute_stats`` on the same image (float32 round-off).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from builder.data.normalize import NormStats, compute_stats

_EPS = 1e-6
#: Pixels per block when scanning an image.
BLOCK_PIXELS = 1 << 18


def _validate_inputs(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image) if not isinstance(image, np.ndarray) else image
    if image.ndim != 3:
        raise ValueError(f"`image` must be Y,X,C. Received: image.shape={image.shape}")
    return image


def _blocks(image: np.ndarray, channels: list[int]) -> Any:
    rows = max(1, BLOCK_PIXELS // max(1, image.shape[1]))
    every = channels == list(range(image.shape[-1]))
    for y in range(0, image.shape[0], rows):
        block = image[y:y + rows] if every else image[y:y + rows][..., channels]
        yield block.reshape(-1)  # a view for contiguous images and all channels


def _percentiles(image: np.ndarray, channels: list[int], qs: tuple[float, float]) -> np.ndarray:
    """Exact ``np.percentile`` (linear) of integer pixels from a histogram."""
    info = np.iinfo(image.dtype)
    counts = np.zeros(int(info.max) - int(info.min) + 1, np.int64)
    for block in _blocks(image, channels):
        counts += np.bincount((block.astype(np.int32) - int(info.min)), minlength=counts.size)
    cum = np.cumsum(counts)
    n = int(cum[-1])
    out = []
    for q in qs:
        h = (n - 1) * q / 100.0
        lo = int(np.floor(h))
        v_lo = np.searchsorted(cum, lo, side="right") + int(info.min)
        v_hi = np.searchsorted(cum, min(lo + 1, n - 1), side="right") + int(info.min)
        out.append(float(v_lo) + (h - lo) * (float(v_hi) - float(v_lo)))
    return np.array(out)


def _moments(image: np.ndarray, channels: list[int], method: str) -> tuple[float, float]:
    if method == "minmax":
        lo, hi = np.inf, -np.inf
        for block in _blocks(image, channels):
            lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
        return lo, hi - lo
    total, squares, n = 0.0, 0.0, 0
    for block in _blocks(image, channels):
        b = block.astype(np.float64)
        total, squares, n = total + float(b.sum()), squares + float(np.dot(b, b)), n + b.size
    mean = total / n
    return mean, float(np.sqrt(max(squares / n - mean * mean, 0.0)))


def image_stats(image: np.ndarray, cfg: Any) -> NormStats:
    """Per-image statistics for a recipe ``preprocess.normalize`` section, with memory bounded by one block.

    Parameters
    ----------
    image : (Y, X, C) ndarray
        Raw pixels (any dtype; may be a memory map).
    cfg : Normalize
        ``method``, ``low``, ``high``, ``per_channel``, ``fixed_min``, ``fixed_max``.

    Returns
    -------
    NormStats
        Equal to ``stats_from_config([image.astype(np.float32)], cfg)``. Floating-point images with the
        ``percentile`` method fall back to that (a float copy is needed to sort them).
    """
    image = _validate_inputs(image)
    n_c = image.shape[-1]
    integer = np.issubdtype(image.dtype, np.integer) and image.dtype.itemsize <= 2
    if cfg.method in ("none", "fixed") or (cfg.method == "percentile" and not integer):
        sample = image if cfg.method == "percentile" else image[:1, :1]
        return compute_stats(np.asarray(sample, np.float32), cfg.method, low=cfg.low, high=cfg.high,
                             per_channel=cfg.per_channel, fixed_min=cfg.fixed_min, fixed_max=cfg.fixed_max)
    groups = [[c] for c in range(n_c)] if cfg.per_channel and n_c > 1 else [list(range(n_c))]
    offsets, scales = [], []
    for channels in groups:
        if cfg.method == "percentile":
            lo, hi = _percentiles(image, channels, (cfg.low, cfg.high))
            offset, scale = lo, hi - lo
        else:
            offset, scale = _moments(image, channels, cfg.method)
        offsets.append(offset)
        scales.append(1.0 if scale < _EPS else scale)
    return NormStats(np.asarray(offsets, np.float32), np.asarray(scales, np.float32))

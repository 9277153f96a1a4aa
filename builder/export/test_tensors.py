"""Normalise a raw test input the way the exported packages declare it (NumPy only, no TensorFlow).

The rules are those of the BioImage Model Zoo preprocessing steps that :mod:`builder.export.bioimageio_descr`
writes, so the test input every format is checked on is the one a consumer computes from the raw image:

- fixed map, or dataset statistics: ``raw * gain + offset`` per channel (``scale_linear``);
- percentile / minmax per image: ``(raw - p_low) / (p_high - p_low + 1e-6)`` over Y,X (and C when not
  per channel), percentiles interpolated linearly (``scale_range``);
- zscore per image: ``(raw - mean) / (std + 1e-6)`` (``zero_mean_unit_variance``);
- then ``clip`` to [0, 1] when asked.
"""

from __future__ import annotations

import numpy as np

from builder.export.bioimageio_descr import fixed_linear
from builder.export.metadata import ExportMetadata, Normalization

#: The spec's default ``eps`` for ``scale_range`` and ``zero_mean_unit_variance``.
EPS = 1e-6


def normalise(norm: Normalization, raw: np.ndarray) -> np.ndarray:
    """Normalise a raw ``B,Y,X,C`` array per sample, as the declared preprocessing does (float32 out)."""
    x = np.asarray(raw, np.float64)
    linear = fixed_linear(norm, x.shape[-1])
    axes = (1, 2) if norm.per_channel else (1, 2, 3)
    if linear is not None:
        gain, offset = linear
        x = x * gain + offset
    elif norm.method in ("percentile", "minmax"):
        low, high = (norm.low, norm.high) if norm.method == "percentile" else (0.0, 100.0)
        lo = np.percentile(x, low, axis=axes, keepdims=True)
        hi = np.percentile(x, high, axis=axes, keepdims=True)
        x = (x - lo) / (hi - lo + EPS)
    elif norm.method == "zscore":
        x = (x - x.mean(axis=axes, keepdims=True)) / (x.std(axis=axes, keepdims=True) + EPS)
    if norm.clip and norm.method != "none":
        x = np.clip(x, 0.0, 1.0)
    return x.astype(np.float32)


def with_test_input(metadata: ExportMetadata) -> ExportMetadata:
    """Fill ``metadata.test_input`` from its raw test input (normalised as declared) when only that is given."""
    if metadata.test_input is None and metadata.raw_test_input is not None:
        metadata.test_input = normalise(metadata.normalization, metadata.raw_test_input)
    return metadata


#: Largest side kept (a centre crop beyond it keeps the packages small).
MAX_SIDE = 512


def crop_to_multiple(image: np.ndarray, multiple: int, max_side: int = MAX_SIDE) -> np.ndarray:
    """Centre-crop a ``Y,X,C`` image so each side is a multiple of ``multiple`` and at most ``max_side``.

    Returns the image unchanged when a side is already smaller than ``multiple`` (nothing valid to crop to).
    """
    multiple = max(1, int(multiple))
    sides = []
    for side in image.shape[:2]:
        keep = min(side, max(multiple, max_side - max_side % multiple)) // multiple * multiple
        sides.append(keep)
    if min(sides) < 1:
        return image
    top, left = (image.shape[0] - sides[0]) // 2, (image.shape[1] - sides[1]) // 2
    return image[top:top + sides[0], left:left + sides[1]]

"""Intensity normalisation (per image or per dataset, per channel) and resampling to a pixel size.

Every method is written as ``(x - offset) / scale``; :func:`compute_stats` finds ``offset`` and ``scale`` and
:func:`apply_stats` applies them, so per-dataset statistics are computed once on the training set and reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from builder.errors import DataError

METHODS = ("percentile", "minmax", "zscore", "fixed", "none")
_EPS = 1e-6
#: Pixels sampled per image when pooling statistics over a dataset.
_POOL_SAMPLES = 200_000


@dataclass
class NormStats:
    """``offset`` and ``scale`` per channel (shape ``(C,)``) or for all channels (shape ``(1,)``)."""

    offset: np.ndarray
    scale: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"offset": self.offset.tolist(), "scale": self.scale.tolist()}


def _validate_inputs(image: np.ndarray, method: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim < 3:
        raise ValueError(f"`image` must be Y,X,C (or T,Y,X,C). Received: image.shape={image.shape}")
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}. Received: method={method!r}")
    return image


def compute_stats(
    images: np.ndarray | list[np.ndarray],
    method: str = "percentile",
    *,
    low: float = 1.0,
    high: float = 99.8,
    per_channel: bool = True,
    fixed_min: float = 0.0,
    fixed_max: float = 65535.0,
    seed: int = 0,
) -> NormStats:
    """Compute normalisation statistics of one image or pooled over a list of images.

    Parameters
    ----------
    images : (..., Y, X, C) ndarray or list of them
        One image, or several (per-dataset statistics; pixels are subsampled for speed).
    method : {'percentile', 'minmax', 'zscore', 'fixed', 'none'}
    low, high : float
        Percentiles mapped to 0 and 1 for ``'percentile'``.
    per_channel : bool
        Separate statistics for each channel.
    fixed_min, fixed_max : float
        Range mapped to 0..1 for ``'fixed'``.

    Returns
    -------
    NormStats
    """
    if isinstance(images, np.ndarray):
        images = [images]
    images = [_validate_inputs(im, method) for im in images]
    n_c = images[0].shape[-1]
    if method in ("none", "fixed"):
        low_value, span = (0.0, 1.0) if method == "none" else (fixed_min, fixed_max - fixed_min)
        return NormStats(np.full(1, low_value, np.float32), np.full(1, max(span, _EPS), np.float32))
    rng = np.random.default_rng(seed)
    pooled = []
    for im in images:
        flat = im.reshape(-1, im.shape[-1])
        if len(images) > 1 and flat.shape[0] > _POOL_SAMPLES:
            flat = flat[rng.choice(flat.shape[0], _POOL_SAMPLES, replace=False)]
        pooled.append(flat.astype(np.float64, copy=False))
    data = np.concatenate(pooled, axis=0) if len(pooled) > 1 else pooled[0]
    if not per_channel or n_c == 1:
        data = data.reshape(-1, 1)
    offset: np.ndarray
    scale: np.ndarray
    if method == "percentile":
        lo, hi = np.percentile(data, [low, high], axis=0)
        offset, scale = lo, hi - lo
    elif method == "minmax":
        lo, hi = data.min(axis=0), data.max(axis=0)
        offset, scale = lo, hi - lo
    else:  # zscore
        offset, scale = data.mean(axis=0), data.std(axis=0)
    scale = np.where(scale < _EPS, 1.0, scale)  # a flat image stays flat instead of exploding
    return NormStats(np.asarray(offset, np.float32).reshape(-1), np.asarray(scale, np.float32).reshape(-1))


def apply_stats(image: np.ndarray, stats: NormStats, *, clip: bool = False) -> np.ndarray:
    """Return ``(image - offset) / scale`` as float32 (optionally clipped to [0, 1])."""
    out = (np.asarray(image, np.float32) - stats.offset) / stats.scale
    if clip:
        np.clip(out, 0.0, 1.0, out=out)
    return out.astype(np.float32, copy=False)


def normalize(
    image: np.ndarray,
    method: str = "percentile",
    *,
    low: float = 1.0,
    high: float = 99.8,
    per_channel: bool = True,
    fixed_min: float = 0.0,
    fixed_max: float = 65535.0,
    clip: bool = False,
    stats: NormStats | None = None,
) -> np.ndarray:
    """Normalise one ``Y,X,C`` image (float32 out).

    Parameters
    ----------
    image : (Y, X, C) or (T, Y, X, C) ndarray
    method, low, high, per_channel, fixed_min, fixed_max
        See :func:`compute_stats`.
    clip : bool
        Clip the result to [0, 1].
    stats : NormStats, optional
        Pre-computed (per-dataset) statistics; computed from ``image`` when left out.

    Examples
    --------
    >>> x = np.arange(100, dtype=np.uint16).reshape(10, 10, 1)
    >>> y = normalize(x, "minmax")
    >>> float(y.min()), float(y.max())
    (0.0, 1.0)
    """
    image = _validate_inputs(image, method)
    if stats is None:
        stats = compute_stats(
            image, method, low=low, high=high, per_channel=per_channel, fixed_min=fixed_min, fixed_max=fixed_max
        )
    return apply_stats(image, stats, clip=clip)


def stats_from_config(images: list[np.ndarray], cfg: Any, seed: int = 0) -> NormStats:
    """Per-dataset statistics for a recipe ``Normalize`` section."""
    return compute_stats(
        images, cfg.method, low=cfg.low, high=cfg.high, per_channel=cfg.per_channel, fixed_min=cfg.fixed_min,
        fixed_max=cfg.fixed_max, seed=seed,
    )


def target_relation(inputs: list[np.ndarray], targets: list[np.ndarray], in_cfg: Any, target_cfg: Any
                    ) -> dict[str, list[float]] | None:
    """How a target's per-image statistics follow from its input's, learned on training pairs.

    With per-image normalisation the target's own statistics are unknown at prediction time (there is no
    target); mapping the output back with the *input's* statistics gives the wrong brightness (a noisy input's
    percentiles are wider than the clean target's). Per channel, ``target.scale = scale * input.scale`` and
    ``target.offset = input.offset + offset * input.scale``, with ``scale`` and ``offset`` the medians over the
    training pairs. Returns ``{"offset": [...], "scale": [...]}``, or None when the channels do not pair up.
    """
    offsets, scales = [], []
    for x, t in zip(inputs, targets, strict=False):
        sx, st = stats_from_config([x], in_cfg), stats_from_config([t], target_cfg)
        if sx.scale.size not in (1, st.scale.size) or not np.all(np.isfinite(sx.scale)) or np.any(sx.scale == 0):
            return None
        scales.append(st.scale / sx.scale)
        offsets.append((st.offset - sx.offset) / sx.scale)
    if not scales:
        return None
    return {"offset": np.median(np.stack(offsets), axis=0).astype(float).tolist(),
            "scale": np.median(np.stack(scales), axis=0).astype(float).tolist()}


def relate_stats(input_stats: NormStats, relation: dict[str, Any]) -> NormStats:
    """The target statistics :func:`target_relation` predicts from one image's input statistics."""
    scale = np.asarray(relation["scale"], np.float32) * input_stats.scale
    offset = input_stats.offset + np.asarray(relation["offset"], np.float32) * input_stats.scale
    return NormStats(np.asarray(offset, np.float32).reshape(-1), np.asarray(scale, np.float32).reshape(-1))


def stats_from_dict(value: Any) -> NormStats | None:
    """A :class:`NormStats` from ``None``, a NormStats or an ``{"offset": [...], "scale": [...]}`` dict."""
    if value is None or isinstance(value, NormStats):
        return value
    return NormStats(np.asarray(value["offset"], np.float32).reshape(-1),
                     np.asarray(value["scale"], np.float32).reshape(-1))


#: The keys of ``normalization.json`` (and of a bundle's ``output_intensity``) that say how image-to-image outputs
#: return to intensities (:func:`output_stats`).
OUTPUT_INTENSITY_KEYS = ("target_normalize", "target_from_input")


def output_stats(normalization: Any, used: NormStats) -> NormStats:
    """The statistics that map an image-to-image output back to intensities.

    ``normalization`` is a run's ``normalization.json`` contents. The target's dataset statistics when training
    used them; else the target statistics that the training pairs' brightness relation (``target_from_input``)
    predicts from this image's input statistics ``used``; else ``used`` itself (older runs and shared models).
    """
    if not isinstance(normalization, dict):
        return used
    target = stats_from_dict(normalization.get("target_normalize"))
    if target is not None:
        return target
    relation = normalization.get("target_from_input")
    if relation and len(relation.get("scale") or []) in (1, used.scale.size):
        return relate_stats(used, relation)
    return used


def resample(
    image: np.ndarray, pixel_size: float | None, target_pixel_size: float, *, order: int = 1, where: str = "image"
) -> np.ndarray:
    """Resample a ``Y,X,C`` image from ``pixel_size`` to ``target_pixel_size`` (µm).

    Parameters
    ----------
    order : int
        Interpolation order: 1 (linear) for images, 0 (nearest) for masks and labels.

    Raises
    ------
    DataError
        If the image's pixel size is unknown.
    """
    if pixel_size is None:
        raise DataError(
            where, "cannot be resampled: its pixel size is unknown.",
            "Set data.pixel_size in the recipe (µm per pixel), or remove preprocess.resample_to.",
        )
    factor = pixel_size / target_pixel_size
    if abs(factor - 1.0) < 1e-6:
        return image
    shape = (max(1, round(image.shape[0] * factor)), max(1, round(image.shape[1] * factor)), image.shape[2])
    if order == 1:  # separable, several times faster than skimage's resize and equal to it (float32 rounding)
        from builder.data.linear_resize import linear_resize

        return linear_resize(image, shape[:2], anti_aliasing=factor < 1)
    from skimage.transform import resize

    out = resize(image, shape, order=order, preserve_range=True, anti_aliasing=order > 0 and factor < 1,
                 mode="reflect")
    return out.astype(image.dtype if order == 0 else np.float32)

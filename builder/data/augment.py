"""Seeded, reproducible augmentation in TensorFlow for ``tf.data`` pipelines.

Geometry (flips, 90-degree rotations, arbitrary rotation, scaling, elastic deformation) is applied identically to
the image and its mask or target: one sampling grid is computed and used for both, with bilinear interpolation for
images and nearest neighbour for masks, so labels stay integers and never blur. Intensity changes (brightness,
contrast, gamma, Gaussian and Poisson noise, blur, channel shuffle/drop) touch the image only.

Every random number comes from stateless ops keyed by a per-sample ``seed`` (shape ``(2,)`` int64), so results
do not depend on thread scheduling in ``Dataset.map(num_parallel_calls=...)``.
TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

#: Number of independent random streams drawn from each sample's seed.
_STREAMS = 16


def make_augmenter(cfg: Any, *, target: str | None = "mask", intensity: bool = True) -> Callable[..., Any]:
    """Build ``augment(image, target, seed) -> (image, target)`` from an ``augment:`` section.

    Parameters
    ----------
    cfg : AugmentSection
    target : {'mask', 'image', None}
        ``'mask'``: integer labels, nearest-neighbour; ``'image'``: float target image (image-to-image),
        bilinear and geometry only; ``None``: no target (classification; pass ``None`` as ``target``).
    intensity : bool
        Apply intensity changes to the image (switch off where the target depends on the exact input values).

    Returns
    -------
    callable
        Takes ``image`` (H, W, C) float32, ``target`` (H, W, K) or None, ``seed`` (2,) int64 tensors.
    """
    import tensorflow as tf

    p = float(cfg.probability)
    enabled = bool(cfg.enabled)

    def augment(image: Any, label: Any, seed: Any) -> tuple[Any, Any]:
        if not enabled:
            return image, label
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=_STREAMS)
        image = tf.cast(image, tf.float32)
        has_target = label is not None
        if cfg.flip:
            u = tf.random.stateless_uniform([2], seeds[0])
            image, label = _both(image, label, lambda x: tf.cond(u[0] < 0.5, lambda: tf.reverse(x, [1]), lambda: x))
            image, label = _both(image, label, lambda x: tf.cond(u[1] < 0.5, lambda: tf.reverse(x, [0]), lambda: x))
        if cfg.rotate90:
            k = tf.random.stateless_uniform([], seeds[1], 0, 4, dtype=tf.int32)
            image, label = _both(image, label, lambda x: tf.image.rot90(x, k))
        if cfg.rotate or cfg.scale or cfg.elastic:
            image, label = _warp(image, label if has_target else None, cfg, p, seeds, target)
        if intensity:
            image = _intensity(image, cfg, p, seeds)
        return image, label

    return augment


def _both(image: Any, label: Any, fn: Callable[[Any], Any]) -> tuple[Any, Any]:
    return fn(image), (fn(label) if label is not None else None)


# ----------------------------------------------------------------------------------------------- geometry


def _warp(image: Any, label: Any, cfg: Any, p: float, seeds: Any, target: str | None) -> tuple[Any, Any]:
    import tensorflow as tf

    u = tf.random.stateless_uniform([6], seeds[2])
    do_rot = u[0] < p if cfg.rotate else tf.constant(False)
    do_scale = u[1] < p if cfg.scale else tf.constant(False)
    do_elastic = u[2] < p if cfg.elastic else tf.constant(False)
    angle = tf.where(do_rot, (u[3] * 2 - 1) * cfg.rotate * math.pi / 180.0, 0.0)
    zoom = tf.where(do_scale, 1.0 + (u[4] * 2 - 1) * cfg.scale, 1.0)

    def apply() -> tuple[Any, Any]:
        shape = tf.shape(image)
        h, w = shape[0], shape[1]
        hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
        yy, xx = tf.meshgrid(tf.range(hf), tf.range(wf), indexing="ij")
        cy, cx = (hf - 1) / 2, (wf - 1) / 2
        cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
        sy = cy + cos * (yy - cy) - sin * (xx - cx)
        sx = cx + sin * (yy - cy) + cos * (xx - cx)
        if cfg.elastic:
            disp = _elastic_field(h, w, cfg.elastic, cfg.elastic_sigma, seeds[3])
            disp = disp * tf.cast(do_elastic, tf.float32)
            sy, sx = sy + disp[..., 0], sx + disp[..., 1]
        out_image = _sample(image, sy, sx, nearest=False)
        out_label = label
        if label is not None:
            out_label = _sample(label, sy, sx, nearest=target != "image")
        return out_image, out_label

    def keep() -> tuple[Any, Any]:
        return image, label

    if label is None:
        return tf.cond(do_rot | do_scale | do_elastic, lambda: apply()[0], lambda: image), None
    return tf.cond(do_rot | do_scale | do_elastic, apply, keep)


def _elastic_field(h: Any, w: Any, alpha: float, sigma: float, seed: Any) -> Any:
    """Smooth random displacement field (H, W, 2) with about ``alpha`` pixels amplitude."""
    import tensorflow as tf

    spacing = max(2.0, 2.5 * float(sigma))
    gh = tf.cast(tf.math.ceil(tf.cast(h, tf.float32) / spacing), tf.int32) + 2
    gw = tf.cast(tf.math.ceil(tf.cast(w, tf.float32) / spacing), tf.int32) + 2
    coarse = tf.random.stateless_normal(tf.stack([1, gh, gw, 2]), seed) * alpha
    return tf.image.resize(coarse, tf.stack([h, w]), method="bicubic")[0]


def _reflect(coord: Any, size: Any) -> Any:
    import tensorflow as tf

    n = tf.cast(size, tf.float32) - 1.0
    period = tf.maximum(2.0 * n, 1.0)
    c = tf.math.floormod(coord, period)
    return n - tf.abs(c - n)


def _sample(x: Any, sy: Any, sx: Any, *, nearest: bool) -> Any:
    """Sample ``x`` (H, W, C) at float source coordinates, reflecting at the borders."""
    import tensorflow as tf

    shape = tf.shape(x)
    h, w, c = shape[0], shape[1], shape[2]
    sy, sx = _reflect(sy, h), _reflect(sx, w)
    flat = tf.reshape(x, tf.stack([h * w, c]))
    if nearest:
        iy = tf.clip_by_value(tf.cast(tf.round(sy), tf.int32), 0, h - 1)
        ix = tf.clip_by_value(tf.cast(tf.round(sx), tf.int32), 0, w - 1)
        return tf.reshape(tf.gather(flat, iy * w + ix), shape)
    y0f, x0f = tf.floor(sy), tf.floor(sx)
    fy, fx = (sy - y0f)[..., None], (sx - x0f)[..., None]
    y0 = tf.clip_by_value(tf.cast(y0f, tf.int32), 0, h - 1)
    x0 = tf.clip_by_value(tf.cast(x0f, tf.int32), 0, w - 1)
    y1, x1 = tf.minimum(y0 + 1, h - 1), tf.minimum(x0 + 1, w - 1)
    xf = tf.cast(flat, tf.float32)
    a = tf.gather(xf, y0 * w + x0)
    b = tf.gather(xf, y0 * w + x1)
    cc = tf.gather(xf, y1 * w + x0)
    d = tf.gather(xf, y1 * w + x1)
    top = a + (b - a) * fx
    bottom = cc + (d - cc) * fx
    return tf.cast(top + (bottom - top) * fy, x.dtype)


# ----------------------------------------------------------------------------------------------- intensity


def _intensity(image: Any, cfg: Any, p: float, seeds: Any) -> Any:
    import tensorflow as tf

    u = tf.random.stateless_uniform([16], seeds[4])

    def maybe(flag_index: int, fn: Callable[[Any], Any], x: Any) -> Any:
        return tf.cond(u[flag_index] < p, lambda: fn(x), lambda: x)

    if cfg.brightness:
        image = maybe(0, lambda x: x + (u[8] * 2 - 1) * cfg.brightness, image)
    if cfg.contrast:
        def contrast(x: Any) -> Any:
            mean = tf.reduce_mean(x, axis=[0, 1], keepdims=True)
            return (x - mean) * (1.0 + (u[9] * 2 - 1) * cfg.contrast) + mean
        image = maybe(1, contrast, image)
    if cfg.gamma:
        def gamma(x: Any) -> Any:
            lo = tf.reduce_min(x, axis=[0, 1], keepdims=True)
            hi = tf.reduce_max(x, axis=[0, 1], keepdims=True)
            span = tf.maximum(hi - lo, 1e-6)
            return lo + span * tf.pow((x - lo) / span, 1.0 + (u[10] * 2 - 1) * cfg.gamma)
        image = maybe(2, gamma, image)
    if cfg.blur:
        image = maybe(3, lambda x: _gaussian_blur(x, 0.1 + u[11] * (cfg.blur - 0.1), cfg.blur), image)
    if cfg.gaussian_noise:
        image = maybe(4, lambda x: x + tf.random.stateless_normal(tf.shape(x), seeds[5]) * cfg.gaussian_noise
                      * u[12], image)
    if cfg.poisson_noise:
        peak = 1.0 / (cfg.poisson_noise ** 2)
        image = maybe(5, lambda x: tf.random.stateless_poisson(tf.shape(x), seeds[6], tf.maximum(x, 0.0) * peak,
                                                               dtype=tf.float32) / peak, image)
    n_channels = image.shape[-1]
    if cfg.channel_shuffle and (n_channels is None or n_channels > 1):
        perm = tf.argsort(tf.random.stateless_uniform(tf.shape(image)[-1:], seeds[7]))
        image = maybe(6, lambda x: tf.gather(x, perm, axis=-1), image)
    if cfg.channel_drop and (n_channels is None or n_channels > 1):
        c = tf.shape(image)[-1]
        k = tf.random.stateless_uniform([], seeds[8], 0, c, dtype=tf.int32)
        keep = 1.0 - tf.one_hot(k, c)
        image = tf.cond((u[7] < cfg.channel_drop) & (c > 1), lambda: image * keep, lambda: image)
    return image


def _gaussian_blur(x: Any, sigma: Any, max_sigma: float) -> Any:
    import tensorflow as tf

    radius = max(1, int(math.ceil(3 * max_sigma)))
    t = tf.range(-radius, radius + 1, dtype=tf.float32)
    k = tf.exp(-0.5 * tf.square(t / sigma))
    k = k / tf.reduce_sum(k)
    c = tf.shape(x)[-1]
    ky = tf.tile(tf.reshape(k, [-1, 1, 1, 1]), tf.stack([1, 1, c, 1]))
    kx = tf.tile(tf.reshape(k, [1, -1, 1, 1]), tf.stack([1, 1, c, 1]))
    padded = tf.pad(x[None], [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    y = tf.nn.depthwise_conv2d(padded, ky, [1, 1, 1, 1], "VALID")
    y = tf.nn.depthwise_conv2d(y, kx, [1, 1, 1, 1], "VALID")
    return y[0]


def augment_numpy(
    cfg: Any, image: Any, target: Any = None, *, seed: int = 0, index: int = 0, target_kind: str | None = "mask",
    intensity: bool = True,
) -> tuple[Any, Any]:
    """Augment one numpy sample eagerly (previews and tests). Same ``(seed, index)`` gives the same result."""
    import numpy as np
    import tensorflow as tf

    fn = make_augmenter(cfg, target=target_kind if target is not None else None, intensity=intensity)
    label = None if target is None else tf.constant(target)
    out_image, out_label = fn(tf.constant(np.asarray(image, np.float32)), label,
                              tf.constant([seed, index], tf.int64))
    return out_image.numpy(), (None if out_label is None else out_label.numpy())

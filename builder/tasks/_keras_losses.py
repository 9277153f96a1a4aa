"""Keras 3 loss classes (imported lazily by :func:`builder.tasks.losses.make_loss`; imports keras at load).

All computations run in float32, whatever the model's (mixed) precision.
"""

from __future__ import annotations

import keras
from keras import ops

_EPS = 1e-7


def _one_hot(y_true, y_pred, n_classes: int):
    """Sparse class indices (..., ) / (..., 1) or one-hot (..., K) -> float32 one-hot (..., K)."""
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == n_classes:
        return ops.cast(y_true, "float32")
    if len(y_true.shape) == len(y_pred.shape):
        y_true = ops.squeeze(y_true, axis=-1)
    return ops.one_hot(ops.cast(y_true, "int32"), n_classes, dtype="float32")


@keras.saving.register_keras_serializable("cellwright")
class ClassLoss(keras.losses.Loss):
    """Cross-entropy, focal and/or soft Dice loss on class probabilities, summed.

    Args:
        terms: tuple of "cross_entropy", "focal", "dice" (added together).
        n_classes: number of classes K (>= 2). A 2-class model may output one sigmoid channel.
        class_weights: one weight per class for cross-entropy/focal, or None.
        label_smoothing: mixes the one-hot target with the uniform distribution.
        focal_gamma: focusing parameter of the focal loss.
        smooth: additive smoothing of the Dice ratio.

    ``y_true``: class indices (B, ...) or (B, ..., 1), or one-hot (B, ..., K). ``y_pred``: probabilities (B, ..., K).
    Returns one value per sample (mean over pixels).
    """

    def __init__(self, terms=("cross_entropy",), n_classes=2, class_weights=None, label_smoothing=0.0,
                 focal_gamma=2.0, smooth=1.0, name="class_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        bad = [t for t in terms if t not in ("cross_entropy", "focal", "dice")]
        if bad or not terms:
            raise ValueError(f"Invalid value received for argument `terms`. Expected cross_entropy, focal and/or "
                             f"dice. Received: terms={terms}")
        if int(n_classes) < 2:
            raise ValueError(f"Invalid value received for argument `n_classes`. Expected >= 2. "
                             f"Received: n_classes={n_classes}")
        if class_weights is not None and len(class_weights) != int(n_classes):
            raise ValueError(f"`class_weights` needs one weight per class ({n_classes}). "
                             f"Received: class_weights={class_weights}")
        self.terms = tuple(terms)
        self.n_classes = int(n_classes)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.label_smoothing = float(label_smoothing)
        self.focal_gamma = float(focal_gamma)
        self.smooth = float(smooth)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        if y_pred.shape[-1] == 1 and self.n_classes == 2:
            y_pred = ops.concatenate([1.0 - y_pred, y_pred], axis=-1)
        y = _one_hot(y_true, y_pred, self.n_classes)
        # a class index >= K (e.g. pixels of cells nobody outlined) has no class: those pixels weigh nothing
        valid = ops.sum(y, axis=-1)
        p = ops.clip(y_pred, _EPS, 1.0 - _EPS)
        pixel_axes = tuple(range(1, len(y_pred.shape) - 1))
        total = 0.0

        def pixel_mean(x):
            if not pixel_axes:
                return x
            return ops.sum(x * valid, axis=pixel_axes) / ops.maximum(ops.sum(valid, axis=pixel_axes), 1.0)

        if "cross_entropy" in self.terms or "focal" in self.terms:
            ys = y * (1.0 - self.label_smoothing) + self.label_smoothing / self.n_classes
            w = ops.convert_to_tensor(self.class_weights, "float32") if self.class_weights is not None else 1.0
            log_p = ops.log(p)
            if "cross_entropy" in self.terms:
                total = total + pixel_mean(-ops.sum(w * ys * log_p, axis=-1))
            if "focal" in self.terms:
                total = total + pixel_mean(-ops.sum(w * ys * ops.power(1.0 - p, self.focal_gamma) * log_p, axis=-1))
        if "dice" in self.terms:
            if not pixel_axes:
                raise ValueError("The Dice loss needs per-pixel outputs (B, Y, X, K).")
            counted = y_pred * valid[..., None]
            inter = ops.sum(y * counted, axis=pixel_axes)
            denom = ops.sum(y, axis=pixel_axes) + ops.sum(counted, axis=pixel_axes)
            dice = (2.0 * inter + self.smooth) / (denom + self.smooth)
            total = total + (1.0 - ops.mean(dice, axis=-1))
        return total

    def get_config(self):
        return {**super().get_config(), "terms": list(self.terms), "n_classes": self.n_classes,
                "class_weights": self.class_weights, "label_smoothing": self.label_smoothing,
                "focal_gamma": self.focal_gamma, "smooth": self.smooth}


def _ssim_per_sample(y_true, y_pred, win: int):
    """Mean SSIM per sample with a uniform window; data range = max - min of each target sample."""
    axes = tuple(range(1, len(y_true.shape)))
    rng = ops.max(y_true, axis=axes) - ops.min(y_true, axis=axes)
    rng = ops.maximum(rng, _EPS)
    rng = ops.reshape(rng, (-1,) + (1,) * (len(y_true.shape) - 1))
    c1, c2 = (0.01 * rng) ** 2, (0.03 * rng) ** 2
    n = float(win * win)

    def pool(x):
        return ops.average_pool(x, pool_size=win, strides=1, padding="valid")

    ux, uy = pool(y_true), pool(y_pred)
    vx = (pool(y_true * y_true) - ux * ux) * n / (n - 1)
    vy = (pool(y_pred * y_pred) - uy * uy) * n / (n - 1)
    vxy = (pool(y_true * y_pred) - ux * uy) * n / (n - 1)
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return ops.mean(s, axis=axes)


@keras.saving.register_keras_serializable("cellwright")
class ImageLoss(keras.losses.Loss):
    """Pixel-wise regression loss: "mae", "mse" or "ssim+mae" (1 - SSIM + MAE), optionally blind-spot masked.

    With ``masked=True`` (Noise2Void) ``y_true`` is (B, Y, X, 2C): the target in the first C channels and the 0/1
    mask in the last C; only masked pixels count (sum of errors / number of masked pixels, per sample).
    With ``ignore_negative=True`` (distance maps, whose values are never negative) target values below 0 mark
    pixels without a target (cells nobody outlined): only the other values count.
    Returns one value per sample.
    """

    def __init__(self, kind="mae", masked=False, ssim_window=7, name="image_loss", reduction="sum_over_batch_size",
                 dtype=None, ignore_negative=False):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if kind not in ("mae", "mse", "ssim+mae"):
            raise ValueError(f"Invalid value received for argument `kind`. Expected mae, mse or ssim+mae. "
                             f"Received: kind={kind}")
        if masked and kind == "ssim+mae":
            raise ValueError("The blind-spot (masked) loss supports kind='mae' or 'mse'. Received: kind=ssim+mae")
        self.kind = kind
        self.masked = bool(masked)
        self.ssim_window = int(ssim_window)
        if ignore_negative and (masked or kind == "ssim+mae"):
            raise ValueError("Invalid value received for argument `ignore_negative`. Expected it only with "
                             f"kind='mae' or 'mse' and masked=False. Received: kind={kind}, masked={masked}")
        self.ignore_negative = bool(ignore_negative)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        y_true = ops.cast(y_true, "float32")
        axes = tuple(range(1, len(y_pred.shape)))
        if self.masked:
            c = y_true.shape[-1] // 2
            target, mask = y_true[..., :c], y_true[..., c:]
        else:
            target, mask = y_true, None
        if self.ignore_negative:
            mask = ops.cast(target >= 0.0, "float32")
            target = ops.maximum(target, 0.0)
        err = ops.abs(y_pred - target) if self.kind in ("mae", "ssim+mae") else ops.square(y_pred - target)
        if mask is not None:
            return ops.sum(err * mask, axis=axes) / ops.maximum(ops.sum(mask, axis=axes), 1.0)
        loss = ops.mean(err, axis=axes)
        if self.kind == "ssim+mae":
            win = min([self.ssim_window, *(d for d in y_pred.shape[1:3] if d is not None)])
            loss = loss + (1.0 - _ssim_per_sample(target, y_pred, win))
        return loss

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "masked": self.masked, "ssim_window": self.ssim_window,
                "ignore_negative": self.ignore_negative}


@keras.saving.register_keras_serializable("cellwright")
class StarLoss(keras.losses.Loss):
    """Star-convex target loss: binary cross-entropy on the object probability plus a weighted ray-distance MAE.

    ``y_true`` and ``y_pred`` are (B, Y, X, 1 + K): channel 0 the object probability (target in [0, 1], 1 at
    object centres), channels 1..K the distances to the object's edge along K rays in pixels. The distance
    error of each pixel (mean absolute error over its rays) is weighted by the target probability, so the
    central pixels, whose polygons are kept at prediction, count most and the background not at all. A negative
    target probability marks a pixel without a target (a cell nobody outlined): it counts in neither term. A
    negative target distance marks a ray of unknown length (it left the training patch inside its object): the
    pixel's distance error is the mean over its other rays.

    Args:
        distance_weight: factor of the distance term (pixels) against the cross-entropy.

    Returns one value per sample.
    """

    def __init__(self, distance_weight=0.2, name="star", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if float(distance_weight) < 0:
            raise ValueError(f"Invalid value received for argument `distance_weight`. Expected >= 0. "
                             f"Received: distance_weight={distance_weight}")
        self.distance_weight = float(distance_weight)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        y_true = ops.cast(y_true, "float32")
        axes = tuple(range(1, len(y_pred.shape) - 1))
        t, p = y_true[..., 0], ops.clip(y_pred[..., 0], _EPS, 1.0 - _EPS)
        valid = ops.cast(t >= 0.0, "float32")
        t = ops.maximum(t, 0.0)
        bce = -ops.sum(valid * (t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p)), axis=axes) / ops.maximum(
            ops.sum(valid, axis=axes), 1.0)
        rays = y_true[..., 1:]
        known = ops.cast(rays >= 0.0, "float32")  # a ray that left the patch has no known length
        err = ops.sum(known * ops.abs(y_pred[..., 1:] - rays), axis=-1) / ops.maximum(ops.sum(known, axis=-1), 1.0)
        mae = ops.sum(t * err, axis=axes) / ops.maximum(ops.sum(t, axis=axes), _EPS)
        return bce + self.distance_weight * mae

    def get_config(self):
        return {**super().get_config(), "distance_weight": self.distance_weight}

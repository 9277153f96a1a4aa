"""Image-to-image metrics (numpy + scipy): PSNR, SSIM, Pearson r, NRMSE, each also for the input.

Scoring the raw input against the target next to the prediction shows the gain the model brings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter

from builder.errors import DataError

METRIC_NAMES: tuple[str, ...] = ("psnr", "ssim", "pearson", "nrmse")


def _as_yxc(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise DataError("image metrics", f"`{name}` must be (Y, X) or (Y, X, C); received shape {arr.shape}.",
                        "Pass one 2D image (channels last).")
    return arr


def _data_range(target: np.ndarray, data_range: float | None) -> float:
    if data_range is not None:
        return float(data_range)
    r = float(target.max() - target.min())
    return r if r > 0 else 1.0


def psnr(target: Any, prediction: Any, *, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``.

    ``data_range`` defaults to ``target.max() - target.min()``. Matches
    ``skimage.metrics.peak_signal_noise_ratio(target, prediction, data_range=...)``.
    """
    t = np.asarray(target, dtype=np.float64)
    p = np.asarray(prediction, dtype=np.float64)
    mse = float(np.mean((t - p) ** 2))
    if mse == 0:
        return float("inf")
    return float(10 * np.log10(_data_range(t, data_range) ** 2 / mse))


def ssim(target: Any, prediction: Any, *, data_range: float | None = None, win_size: int = 7) -> float:
    """Mean structural similarity (Wang et al. 2004) with a uniform ``win_size`` window, averaged over channels.

    Uses the same settings as ``skimage.metrics.structural_similarity`` defaults (K1=0.01, K2=0.03, sample
    covariance, window borders cropped) so the two agree.
    """
    t = _as_yxc(target, "target")
    p = _as_yxc(prediction, "prediction")
    if t.shape != p.shape:
        raise DataError("image metrics", f"target {t.shape} and prediction {p.shape} differ in shape.",
                        "Compare images of the same size and channels.")
    if min(t.shape[:2]) < win_size:
        raise DataError("image metrics", f"Images of {t.shape[:2]} px are smaller than the SSIM window ({win_size}).",
                        "Evaluate on larger images.")
    L = _data_range(t, data_range)
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    n = win_size * win_size
    cov_norm = n / (n - 1.0)
    pad = (win_size - 1) // 2
    values = []
    for c in range(t.shape[-1]):
        x, y = t[..., c], p[..., c]
        ux, uy = uniform_filter(x, win_size), uniform_filter(y, win_size)
        uxx, uyy = uniform_filter(x * x, win_size), uniform_filter(y * y, win_size)
        uxy = uniform_filter(x * y, win_size)
        vx, vy, vxy = cov_norm * (uxx - ux * ux), cov_norm * (uyy - uy * uy), cov_norm * (uxy - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
        values.append(s[pad:s.shape[0] - pad, pad:s.shape[1] - pad].mean())
    return float(np.mean(values))


def pearson(target: Any, prediction: Any) -> float:
    """Pearson correlation of all pixel values (NaN when either image is constant)."""
    t = np.asarray(target, dtype=np.float64).ravel()
    p = np.asarray(prediction, dtype=np.float64).ravel()
    t = t - t.mean()
    p = p - p.mean()
    den = np.sqrt((t * t).sum() * (p * p).sum())
    return float((t * p).sum() / den) if den > 0 else float("nan")


def nrmse(target: Any, prediction: Any) -> float:
    """Normalised root-mean-square error ``||target - prediction|| / ||target||``.

    Matches ``skimage.metrics.normalized_root_mse`` with its default ``normalization="euclidean"``.
    """
    t = np.asarray(target, dtype=np.float64)
    p = np.asarray(prediction, dtype=np.float64)
    den = np.sqrt(np.mean(t * t))
    return float(np.sqrt(np.mean((t - p) ** 2)) / den) if den > 0 else float("nan")


def fit_affine(image: Any, target: Any) -> np.ndarray:
    """Scale and offset ``image`` (least squares, per channel) to best match ``target``.

    Used so that an input recorded on a different intensity scale is compared fairly (as CSBDeep does).
    """
    x = _as_yxc(image, "image")
    t = _as_yxc(target, "target")
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        xc, tc = x[..., c].ravel(), t[..., c].ravel()
        var = xc.var()
        a = float(((xc - xc.mean()) * (tc - tc.mean())).mean() / var) if var > 0 else 0.0
        b = float(tc.mean() - a * xc.mean())
        out[..., c] = a * x[..., c] + b
    return out


def image_scores(target: Any, prediction: Any, *, data_range: float | None = None,
                 rescale: bool = True) -> dict[str, float]:
    """PSNR, SSIM, Pearson r and NRMSE of one image.

    ``rescale=True`` first fits ``prediction`` to ``target`` with a scale and offset (:func:`fit_affine`).
    """
    t = _as_yxc(target, "target")
    p = _as_yxc(prediction, "prediction")
    if t.shape != p.shape:
        raise DataError("image metrics", f"target {t.shape} and prediction {p.shape} differ in shape.",
                        "Compare images of the same size and channels.")
    if rescale:
        p = fit_affine(p, t)
    L = _data_range(t, data_range)
    return {"psnr": psnr(t, p, data_range=L), "ssim": ssim(t, p, data_range=L), "pearson": pearson(t, p),
            "nrmse": nrmse(t, p)}


def image_metrics(
    targets: Iterable[Any] | Any,
    predictions: Iterable[Any] | Any,
    inputs: Iterable[Any] | Any | None = None,
    *,
    data_range: float | None = None,
    rescale: bool = True,
) -> dict[str, Any]:
    """Image-to-image scores over a set of images (mean over images), with the input's scores for comparison.

    Parameters
    ----------
    targets, predictions : (Y, X[, C]) array or list of such arrays
    inputs : same, optional
        The network inputs. Scored against the target too when they have the target's shape.
    data_range : float, optional
        Range used by PSNR/SSIM; default ``max - min`` of each target.
    rescale : bool
        Fit prediction and input to the target with scale + offset before scoring (CSBDeep's habit; it hides
        scale errors, so Cellwright's own evaluation scores without it).

    Returns
    -------
    dict
        ``psnr``, ``ssim``, ``pearson``, ``nrmse`` (prediction), ``input_psnr``, ... (input, or None when the
        input cannot be compared), ``gain_psnr``, ... (prediction minus input; for NRMSE a negative gain is
        better), ``per_image`` [{psnr, ssim, ...}], ``n_images``.
    """
    if isinstance(targets, np.ndarray) and targets.ndim in (2, 3):
        targets, predictions = [targets], [predictions]
        inputs = [inputs] if inputs is not None else None
    targets, predictions = list(targets), list(predictions)
    inputs = list(inputs) if inputs is not None else [None] * len(targets)
    if not (len(targets) == len(predictions) == len(inputs)):
        raise DataError("image metrics", f"{len(targets)} targets, {len(predictions)} predictions and "
                        f"{len(inputs)} inputs.", "Pass one prediction (and input) per target.")
    per_image = []
    for t, p, x in zip(targets, predictions, inputs, strict=True):
        row: dict[str, Any] = image_scores(t, p, data_range=data_range, rescale=rescale)
        tt = _as_yxc(t, "target")
        if x is not None and _as_yxc(x, "input").shape == tt.shape:
            for k, v in image_scores(tt, x, data_range=data_range, rescale=rescale).items():
                row[f"input_{k}"] = v
        per_image.append(row)
    out: dict[str, Any] = {"n_images": len(per_image), "per_image": per_image}
    for k in METRIC_NAMES:
        vals = [r[k] for r in per_image if np.isfinite(r[k])]
        out[k] = float(np.mean(vals)) if vals else None
        ivals = [r[f"input_{k}"] for r in per_image if f"input_{k}" in r and np.isfinite(r[f"input_{k}"])]
        out[f"input_{k}"] = float(np.mean(ivals)) if ivals and len(ivals) == len(per_image) else None
        out[f"gain_{k}"] = (out[k] - out[f"input_{k}"]) if out[k] is not None and out[f"input_{k}"] is not None \
            else None
    return out

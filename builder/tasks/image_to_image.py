"""Image-to-image: paired restoration / label-free prediction (CARE-style) and Noise2Void blind-spot masking.

Noise2Void (Krull et al. 2019) trains a denoiser from noisy images alone: in each training patch a small
fraction of pixels is replaced by a value taken from their surroundings, and the loss is computed only at those
pixels, so the network cannot learn the identity and must predict each pixel from its surroundings. The
replacement is either the value of one random neighbour (``"neighbour"``, Noise2Void's scheme) or the median of
the neighbourhood without the centre pixel (``"median"``, the scheme of N2V2, Höck et al. 2022, which found that
random neighbours leave checkerboard artefacts): ``train.blind_spot.replacement``.

Blind-spot targets carry the mask with them: ``y_true`` is ``(Y, X, 2C)``, the original patch in the first
``C`` channels and the 0/1 mask of manipulated pixels in the last ``C`` (see :func:`split_n2v_target` and the
``masked_mse`` loss in :mod:`builder.tasks.losses`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from builder.errors import DataError

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: Default fraction of pixels manipulated per patch: 3 % scored 0.26-0.30 dB above 1 % (two seeds, same steps) on
#: real fluorescence images with microscope-like noise (``tests/benchmarks/realdata_denoising.py``).
N2V_FRACTION = 0.03
#: Default neighbourhood radius for the replacement value.
N2V_RADIUS = 2
#: How a masked pixel's value is replaced: one random neighbour, or the median of its neighbours.
N2V_REPLACEMENTS = ("neighbour", "median")
#: Default replacement.
N2V_REPLACEMENT = "neighbour"


def _check_fraction(fraction: float, radius: int, replacement: str = N2V_REPLACEMENT) -> None:
    if replacement not in N2V_REPLACEMENTS:
        raise DataError("noise2void", f"Invalid `replacement`. Expected one of {', '.join(N2V_REPLACEMENTS)}. "
                        f"Received: replacement={replacement!r}", "Use 'median' or 'neighbour'.")
    if not 0.0 < fraction <= 0.1:
        raise DataError("noise2void",
                        f"Invalid `fraction`. Expected 0 < fraction <= 0.1. Received: fraction={fraction}",
                        "Use 0.005-0.05 (0.5-5 % of the pixels).")
    if radius < 1:
        raise DataError("noise2void", f"Invalid `radius`. Expected >= 1. Received: radius={radius}",
                        "Use a radius of 2 to 5 pixels.")


def _neighbour(coord: np.ndarray, offset: np.ndarray, size: int) -> np.ndarray:
    """coord + offset, mirrored (coord - offset) where it would leave the image; never equals coord if offset != 0."""
    n = coord + offset
    n = np.where((n < 0) | (n >= size), coord - offset, n)
    return np.clip(n, 0, size - 1)


def neighbour_offsets(radius: int) -> tuple[np.ndarray, np.ndarray]:
    """``(dy, dx)`` of every pixel within ``radius`` (Chebyshev distance) except the centre, row by row."""
    side = 2 * radius + 1
    k = np.arange(side * side)
    k = k[k != (side * side) // 2]
    return k // side - radius, k % side - radius


def _median_of_neighbours(x: np.ndarray, ys: np.ndarray, xs: np.ndarray, radius: int) -> np.ndarray:
    """``(n, C)`` median of each pixel's neighbours within ``radius``, the pixel itself left out (mirrored edges)."""
    dy, dx = neighbour_offsets(radius)
    h, w = x.shape[:2]
    ny = _neighbour(ys[:, None], dy[None, :], h)
    nx = _neighbour(xs[:, None], dx[None, :], w)
    return np.median(x[ny, nx, :], axis=1)


def n2v_manipulate(
    patch: Any,
    *,
    fraction: float = N2V_FRACTION,
    radius: int = N2V_RADIUS,
    rng: np.random.Generator | int | None = None,
    replacement: str = N2V_REPLACEMENT,
) -> tuple[np.ndarray, np.ndarray]:
    """Blind-spot masking of one patch (numpy).

    Parameters
    ----------
    patch : (Y, X, C) array
        A noisy training patch.
    fraction : float
        Fraction of pixels to manipulate (at least one pixel).
    radius : int
        Replacement values come from the pixels within ``radius`` (Chebyshev distance), never the pixel itself.
    rng : numpy Generator or int seed, optional
    replacement : {"neighbour", "median"}
        ``"neighbour"``: the value of one random neighbour; ``"median"``: the median of all the neighbours.

    Returns
    -------
    manipulated : (Y, X, C) ndarray of float32
        The network input.
    mask : (Y, X, C) ndarray of float32
        1 at manipulated pixels (all channels of a chosen pixel), else 0.
    """
    x = np.asarray(patch, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise DataError("noise2void", f"`patch` must be (Y, X, C); received shape {x.shape}.", "Pass one patch.")
    _check_fraction(fraction, radius, replacement)
    rng = np.random.default_rng(rng)
    h, w = x.shape[:2]
    n = max(1, int(round(fraction * h * w)))
    flat = rng.choice(h * w, size=min(n, h * w), replace=False)
    ys, xs = np.divmod(flat, w)
    # offsets in [-r, r]^2 without (0, 0)
    side = 2 * radius + 1
    k = rng.integers(0, side * side - 1, size=ys.size)
    k = k + (k >= (side * side) // 2)
    dy, dx = k // side - radius, k % side - radius
    ny, nx = _neighbour(ys, dy, h), _neighbour(xs, dx, w)
    out = x.copy()
    out[ys, xs, :] = x[ny, nx, :] if replacement == "neighbour" else _median_of_neighbours(x, ys, xs, radius)
    mask = np.zeros_like(x)
    mask[ys, xs, :] = 1.0
    return out, mask


def n2v_target(patch: Any, mask: Any) -> np.ndarray:
    """Stack the original patch and its blind-spot mask into the ``(Y, X, 2C)`` training target."""
    x = np.asarray(patch, dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32)
    if x.ndim == 2:
        x, m = x[..., None], m[..., None]
    return np.concatenate([x, m], axis=-1)


def split_n2v_target(y_true: Any) -> tuple[Any, Any]:
    """Split a ``(..., 2C)`` blind-spot target into (original, mask); works on numpy arrays and tensors."""
    c = y_true.shape[-1] // 2
    return y_true[..., :c], y_true[..., c:]


def make_n2v_map_fn(*, fraction: float = N2V_FRACTION, radius: int = N2V_RADIUS, seed: int | None = None,
                    replacement: str = N2V_REPLACEMENT):
    """A TensorFlow function ``patch (Y, X, C) -> (manipulated, target (Y, X, 2C))`` for ``tf.data`` ``map``.

    ``replacement`` is as in :func:`n2v_manipulate` (the same pixels are chosen whichever it is).

    Use it on single (unbatched) noisy patches: ``ds.map(make_n2v_map_fn(seed=42))``. Pure TensorFlow ops, so it
    runs in the input pipeline without Python. With ``seed`` the sequence of masks is reproducible. Called as
    ``fn(patch, index)`` (e.g. after ``ds.enumerate()``), the mask depends only on ``(seed, index)``: the same
    patch position gets the same mask whatever came before (a resumed run, parallel ``map`` calls).
    """
    import tensorflow as tf

    _check_fraction(fraction, radius, replacement)
    side = 2 * radius + 1
    all_dy, all_dx = (tf.constant(a, tf.int32) for a in neighbour_offsets(radius))
    if seed is not None:
        gen = tf.random.Generator.from_seed(seed)
    else:
        gen = tf.random.Generator.from_non_deterministic_state()

    def _mirror(coord, offset, size):
        n = coord + offset
        n = tf.where((n < 0) | (n >= size), coord - offset, n)
        return tf.clip_by_value(n, 0, size - 1)

    def draws(h_w: Any, n: Any, index: Any) -> tuple[Any, Any]:
        """Random keys for the pixels and neighbour choices: stateless from (seed, index) when index is given."""
        if index is None or seed is None:
            return gen.uniform([h_w]), gen.uniform([n], 0, side * side - 1, dtype=tf.int32)
        pair = tf.stack([tf.constant(seed, tf.int64), tf.cast(index, tf.int64)])
        first, second = tf.unstack(tf.random.experimental.stateless_split(pair, num=2))
        return (tf.random.stateless_uniform([h_w], seed=first),
                tf.random.stateless_uniform([n], seed=second, minval=0, maxval=side * side - 1, dtype=tf.int32))

    def median_values(x, ys, xs, h, w):
        """(n, C) median of each chosen pixel's neighbours (centre left out), like :func:`_median_of_neighbours`."""
        ny = _mirror(ys[:, None], all_dy[None, :], h)
        nx = _mirror(xs[:, None], all_dx[None, :], w)
        values = tf.sort(tf.gather_nd(x, tf.stack([ny, nx], axis=-1)), axis=1)  # (n, K, C), K even
        half = (side * side - 1) // 2
        return 0.5 * (values[:, half - 1] + values[:, half])

    def n2v_map(patch, index=None):
        x = tf.cast(patch, tf.float32)
        if x.shape.rank == 2:
            x = x[..., None]
        shape = tf.shape(x)
        h, w, c = shape[0], shape[1], shape[2]
        n = tf.maximum(1, tf.cast(tf.round(fraction * tf.cast(h * w, tf.float32)), tf.int32))
        # distinct random pixels: the first n of a random permutation (via random keys)
        keys, k = draws(h * w, n, index)
        flat = tf.math.top_k(keys, k=n).indices
        ys, xs = flat // w, flat % w
        k = k + tf.cast(k >= (side * side) // 2, tf.int32)
        dy, dx = k // side - radius, k % side - radius
        ny, nx = _mirror(ys, dy, h), _mirror(xs, dx, w)
        if replacement == "median":
            values = median_values(x, ys, xs, h, w)
        else:
            values = tf.gather_nd(x, tf.stack([ny, nx], axis=1))
        where = tf.stack([ys, xs], axis=1)
        manipulated = tf.tensor_scatter_nd_update(x, where, values)
        mask = tf.tensor_scatter_nd_update(tf.zeros([h, w], tf.float32), where, tf.ones([n], tf.float32))
        mask = tf.repeat(mask[..., None], c, axis=-1)
        return manipulated, tf.concat([x, mask], axis=-1)

    return n2v_map


def identity_target(target: Any) -> np.ndarray:
    """Paired image-to-image target: the target image itself as float32 ``(Y, X, C)``."""
    t = np.asarray(target, dtype=np.float32)
    return t[..., None] if t.ndim == 2 else t


def postprocess_image(pred: Any) -> np.ndarray:
    """Network output to a float32 image (no change besides the dtype)."""
    return np.asarray(pred, dtype=np.float32)


# -- the task ---------------------------------------------------------------------------------------------------
from builder.tasks.base import IMAGE_LOSSES, Task, lazy, register_task, require_targets  # noqa: E402


def intensity_pairs(recipe: Recipe, loaded: Any, outs: list[np.ndarray], normalization: Any
                    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], float | None, str]:
    """Targets, predictions and inputs on the images' own intensity scale, for scoring as the field does.

    Each output is mapped back to intensities the way ``predict`` writes it (:func:`output_stats`), and compared
    with the raw target; no linear fit hides a wrongly scaled model. PSNR/SSIM use a data range of 255 when the
    targets are 8-bit images (the convention of published denoising benchmarks), else each target's own
    ``max - min``. Returns ``(targets, predictions, inputs, data_range or None, data range in words)``.
    """
    from builder.data.normalize import output_stats, stats_from_dict
    from builder.data.preprocess import normalise_input

    cfg = recipe.preprocess.normalize
    dataset = stats_from_dict(normalization.get("normalize")) if isinstance(normalization, dict) else None
    preds = []
    for image, out in zip(loaded.images, outs, strict=True):
        used = normalise_input(image, cfg, dataset)[1]
        stats = output_stats(normalization, used)
        n = out.shape[-1]
        if stats.scale.size not in (1, n):
            raise DataError("image-to-image scoring", f"The model outputs {n} channels but the intensity "
                            f"statistics have {stats.scale.size}.",
                            "Use target normalisation with one statistic per output channel.")
        preds.append((out * stats.scale + stats.offset).astype(np.float32))
    inputs = [np.asarray(image, np.float32) for image in loaded.images]
    if not loaded.targets:  # noisy images only (Noise2Void): nothing clean to compare with
        return inputs, preds, inputs, None, "each image's own max - min (scored against the noisy input)"
    require_targets(loaded, "test images")
    targets = [np.asarray(t, np.float32) for t in loaded.targets]
    if loaded.target_dtypes and all(d == "uint8" for d in loaded.target_dtypes):
        return targets, preds, inputs, 255.0, "255 (8-bit images)"
    return targets, preds, inputs, None, "each target image's own max - min"


def median_blind_spot_problems(recipe: Recipe) -> list[Any]:
    """A median blind spot with a residual output: the network learns to pass the noisy pixel through.

    The median of the neighbours is already a good guess of the hidden pixel, so a network whose output is the
    input plus a correction scores well by correcting nothing, and at prediction time (no hidden pixels) it
    returns the noisy image (validation PSNR 21.5 dB against 31.0 dB with ``residual: false`` on the real-data
    benchmark, ``tests/benchmarks/realdata_denoising.py``).
    """
    from builder.tasks.base import problem

    model = recipe.model
    if recipe.train.blind_spot.replacement != "median" or model.template != "restoration" or model.graph:
        return []
    if not model.params.get("residual", True):
        return []
    return [problem("model.params.residual",
                    "Expected residual: false with train.blind_spot.replacement: median. Received: residual: true "
                    "(the default): the network learns to copy the median put in each hidden pixel and returns "
                    "the noisy image unchanged.",
                    "Set residual: false under model.params, or blind_spot: {replacement: neighbour} under train.")]


@register_task
class ImageToImage(Task):
    """Restoration (denoising, CARE-style), Noise2Void, and label-free prediction."""

    name = "image_to_image"
    title = "Image-to-image (restoration, label-free, Noise2Void)"
    description = "image-to-image prediction (restoration or label-free prediction)"
    card = ("Restore or translate images", "Denoise, or predict a fluorescence channel from brightfield.")
    output = "image"
    head_block = "regression_head"
    layouts = ("folders", "paired", "noisy_only", "manifest", "demo")
    learns_from = "targets"
    headline = ("PSNR (dB)", "psnr")
    losses = {"default": ("mae", IMAGE_LOSSES), "self_supervised": ("mse", ("mse", "mae"))}
    targets = {"default": lazy(__name__, "identity_target")}
    postprocess = {"default": lazy(__name__, "postprocess_image"),
                   "self_supervised": lazy(__name__, "postprocess_image")}
    self_supervised_ok = True
    output_description = "Restored/predicted image."
    predict_files = ("{stem}_restored.tif",)
    streams_prediction = True
    overlay_caption = "Columns: input, prediction, target and the absolute error map (bright = large error)."
    examples_caption = "Example test inputs (top) and their targets (bottom)."
    figure_style = "image_columns"
    report_metrics = (
        ("PSNR (dB)", ("psnr",), "Closeness to the target in decibels; +3 dB halves the squared error.", True),
        ("SSIM", ("ssim",), "Structural similarity to the target (1 = identical structures).", True),
        ("Pearson r", ("pearson",), "Linear correlation of pixel values with the target (1 = perfect).", True),
        ("NRMSE", ("nrmse",), "Root-mean-square error relative to the target's range (lower is better).", False),
    )

    def variant_for(self, *, self_supervised: bool = False, **_: Any) -> str | None:
        return "self_supervised" if self_supervised else None

    def target_fn(self, variant: str | None = None) -> None:
        """Targets are images, normalised by the data pipeline and used as they are."""
        self.check_trainable()
        return None

    def new_recipe_data(self, root: str) -> dict[str, Any]:
        return {"layout": "folders", "root": root, "targets": "targets"}

    def check_recipe(self, recipe: Recipe) -> list[Any]:
        from builder.tasks.base import problem

        problems = super().check_recipe(recipe)
        if recipe.train.self_supervised:
            return problems + median_blind_spot_problems(recipe)
        target_cfg = recipe.preprocess.target_normalize or recipe.preprocess.normalize
        if target_cfg.per == "image" and target_cfg.method not in ("fixed", "none"):
            key = "preprocess.target_normalize" if recipe.preprocess.target_normalize else "preprocess.normalize"
            problems.append(problem(
                f"{key}.per", "Targets are normalised per image, so at prediction time (no target) the restored "
                "image's brightness is estimated from the input with the input-to-target relation learned on the "
                "training pairs; absolute intensities may still differ from image to image.",
                "For intensities that compare across images, set preprocess.target_normalize: {method: "
                "percentile, per: dataset}.", severity="warning"))
        if recipe.data.layout in ("folders", "paired") and not recipe.data.targets:
            problems.append(problem(
                "data.targets", "The task is image_to_image with paired training, but data.targets does not name "
                "a target folder.", "Add `targets: targets` under `data`, or set `train.self_supervised: true` "
                "to denoise from noisy images only."))
        elif recipe.data.layout == "noisy_only":
            problems.append(problem(
                "train.self_supervised", "The data layout is noisy_only (no clean targets), so training must be "
                "self-supervised.", "Set `self_supervised: true` under `train`."))
        return problems

    def model_outputs(self, recipe: Recipe, dataset: Any, info: Any) -> tuple[int | None, int | None]:
        return None, int(info["n_channels"])

    def output_channels(self, ctx: Any) -> int | None:
        return ctx.n_outputs

    def interpret(self, output: np.ndarray, recipe: Recipe, params: Any) -> dict[str, Any]:
        return {"restored": output, "prediction": output}

    def score(self, loaded: Any, xs: list, outs: list, results: list, ctx: Any) -> tuple[dict, list, list, list]:
        from builder.tasks.metrics import image_metrics

        truths, preds, inputs, data_range, range_text = intensity_pairs(ctx.recipe, loaded, outs, ctx.normalization)
        m = image_metrics(truths, preds, inputs, data_range=data_range, rescale=False)
        m["data_range"] = range_text
        if not loaded.targets:
            m["note"] = "No clean target images: the prediction is scored against the noisy input."
        rows = [{"score": r.get("psnr"), **r} for r in m["per_image"]]
        return m, truths, preds, rows

    def flat_metrics(self, m: Any) -> dict[str, float]:
        return {k: v for k, v in super().flat_metrics(m).items() if not k.startswith("input_")}

    def extra_results(self, m: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"input_baseline": {k: m.get(f"input_{k}") for k in ("psnr", "ssim", "pearson", "nrmse")},
                               "data_range": m.get("data_range")}
        if m.get("note"):
            out["note"] = m["note"]
        return out

    def write_prediction(self, result: Any, image: Any, stem: str, out_dir: Any, *, pixel_size: Any,
                         class_names: Any) -> tuple[dict, list, list]:
        from builder.data.writers import write_tiff

        planes = self.prediction_planes(result)
        return {}, [write_tiff(out_dir / f"{stem}_{name}.tif", a, pixel_size) for name, a in planes.items()], []

    def prediction_planes(self, result: Any) -> dict[str, np.ndarray]:
        restored = result["restored_intensity"] if result.get("restored_intensity") is not None \
            else result["restored"]
        return {"restored": restored.astype(np.float32, copy=False)}

    def methods_task(self, run: Any) -> str:
        return "image restoration (image-to-image prediction)"

    def methods_extra(self, run: Any, cite: Any) -> str | None:
        if run.get("train.self_supervised"):
            return (f"Training was self-supervised with the blind-spot scheme of Noise2Void {cite('n2v')}, "
                    f"using the noisy images only.")
        return None

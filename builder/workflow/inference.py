"""Whole-image inference: raw image -> normalised input -> network output (tiled when needed) -> task result.

The same path serves ``cellwright predict`` and ``cellwright evaluate``: images are resampled and normalised the
way training saw them, passed through the network in one call when they fit in memory, else cut into tiles that
overlap by the network's receptive field (:mod:`builder.workflow.tiling`; tiles are padded to a multiple of the
model's downsampling factor) and blended back. The output is interpolated back to the image's own size and
post-processed there by the task (class index, class mask, instance labels or restored image), so outlines are
drawn at full resolution; star-convex polygons are instead suppressed on the network's grid and only the kept
ones drawn at full resolution (:func:`to_image_grid`, :mod:`builder.tasks.star_nms`). Models trained with
Noise2Void blind-spot masking predict the whole image normally (the masking only exists during training).
"""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.data.normalize import NormStats
from builder.data.preprocess import normalise_input, preprocess_image, resize_yx
from builder.errors import DataError
from builder.tasks import get_task
from builder.workflow.receptive_field import network_reach
from builder.workflow.tiling import TilePlan, _fixed_input_size, plan_tiles

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: Tiles per network call.
TILE_BATCH = 4


def to_norm_stats(value: Any) -> NormStats | None:
    """A :class:`NormStats` from ``None``, a NormStats or a ``{"offset": [...], "scale": [...]}`` dict."""
    if value is None or isinstance(value, NormStats):
        return value
    if isinstance(value, Mapping) and "offset" in value and "scale" in value:
        return NormStats(np.asarray(value["offset"], np.float32).reshape(-1),
                         np.asarray(value["scale"], np.float32).reshape(-1))
    raise DataError("normalization", f"Expected normalisation statistics with 'offset' and 'scale'. Received: "
                    f"{type(value).__name__} {str(value)[:120]}", "Pass the run's normalization.json contents.")


def resolve_norm_stats(norm_stats: Any) -> tuple[NormStats | None, NormStats | None]:
    """``(input stats, target stats)`` from what training wrote.

    Accepts ``None`` (per-image normalisation), a :class:`NormStats` or ``{"offset", "scale"}`` dict (input only),
    or a run's ``normalization.json`` contents ``{"normalize": ..., "target_normalize": ...}``.
    """
    if isinstance(norm_stats, Mapping) and ("normalize" in norm_stats or "target_normalize" in norm_stats):
        return to_norm_stats(norm_stats.get("normalize")), to_norm_stats(norm_stats.get("target_normalize"))
    return to_norm_stats(norm_stats), None


def postprocess_settings(recipe: Recipe, postprocess: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Thresholds for masks and instances: the recipe's ``evaluate.postprocess`` updated with ``postprocess``."""
    out = get_task(recipe.task).postprocess_settings(recipe)
    for key in out:
        if postprocess and postprocess.get(key) is not None:
            out[key] = type(out[key])(postprocess[key])
    return out


def downsampling_factor(recipe: Recipe) -> int:
    """The network's total downsampling (tiles are padded to a multiple of it); 1 when it cannot be found."""
    try:
        return max(1, int(recipe.model.downsampling_factor()))
    except Exception:  # an unknown graph (e.g. a shared model): fall back to a safe common multiple
        return 32


def as_yxc(image: Any, where: str = "image") -> np.ndarray:
    """Check one 2D image and return it as ``Y,X,C`` (a ``Y,X`` image gets a channel axis)."""
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3:
        raise DataError(where, f"Expected one 2D image (Y, X, C). Received: shape={a.shape}",
                        "Predict time-lapses frame by frame (save each frame as its own image).")
    return a


def classification_size(model: Any, recipe: Recipe) -> tuple[int, int]:
    """Input size of a classifier: the model's fixed size, else ``preprocess.image_size`` / the patch size."""
    fixed = _fixed_input_size(model)
    if fixed is not None:
        return fixed
    size = recipe.preprocess.image_size or recipe.preprocess.patch.size
    return size, size


def prepare(image: Any, recipe: Recipe, *, model: Any = None, stats: NormStats | None = None,
            pixel_size: float | None = None, resized: bool = False, diameter: float | None = None
            ) -> tuple[np.ndarray, NormStats]:
    """Resample (and resize, for classification) and normalise one raw image the way training did.

    A thin wrapper around :func:`builder.data.preprocess.preprocess_image`, the function training uses too.

    Parameters
    ----------
    image : (Y, X, C) array
        Raw pixel values.
    recipe : Recipe
    model : keras.Model, optional
        Needed for classification (its input size).
    stats : NormStats, optional
        Per-dataset statistics from training; per-image statistics when left out.
    pixel_size : float, optional
        Pixel size of ``image`` in µm (``data.pixel_size`` when left out); used by ``preprocess.resample_to``.
    resized : bool
        The image was already resampled/resized (e.g. by :func:`builder.data.pipeline.load_split`).
    diameter : float, optional
        Object diameter (px) in ``image``, for ``preprocess.object_diameter`` (default: the recipe's number).

    Returns
    -------
    x : (Y', X', C) float32
        Normalised network input.
    stats : NormStats
        The statistics used (to map image-to-image outputs back to intensities).
    """
    a = as_yxc(image)
    pre = recipe.preprocess
    size = None
    if get_task(recipe.task).whole_image_input:
        size = classification_size(model, recipe) if model is not None else None
    if resized:
        x = np.asarray(a, np.float32)
        return normalise_input(resize_yx(x, size) if size is not None else x, pre.normalize, stats)
    return preprocess_image(a, pre, pixel_size=pixel_size or recipe.data.pixel_size, size=size, stats=stats,
                            diameter=diameter)


#: Attribute a loaded model may carry: the size multiple its package declares (see ``model_source``).
SIZE_MULTIPLE_ATTR = "cellwright_size_multiple"


def model_size_multiple(model: Any) -> int:
    """The size multiple the model's package declared (1 when it declared none)."""
    try:
        return max(1, int(getattr(model, SIZE_MULTIPLE_ATTR, 1) or 1))
    except (TypeError, ValueError):
        return 1


#: Network calls made per model (see :func:`network_calls`).
_CALLS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def network_calls(model: Any) -> int:
    """How many network calls (batches of tiles or images) prediction has made with ``model`` so far."""
    try:
        return _CALLS.get(model, 0)
    except TypeError:
        return 0


def _count_call(model: Any) -> None:
    with contextlib.suppress(TypeError):  # a model that cannot be weakly referenced is not counted
        _CALLS[model] = _CALLS.get(model, 0) + 1


def _predict_batch(model: Any, *, coarse: bool = False):
    """``model``'s forward pass on a float32 batch, counted; ``coarse``: the output before a final repeat
    (:mod:`builder.workflow.coarse_network`)."""
    def call(batch: np.ndarray) -> np.ndarray:
        _count_call(model)
        try:
            out = (_call_coarse if coarse else _call)(model, np.asarray(batch, np.float32))
        except Exception as error:  # TF and Keras raise several types for an input size the network cannot take
            if not _is_size_error(error):
                raise
            size = "x".join(str(n) for n in np.shape(batch)[1:3])
            raise DataError("model input", f"The network cannot run on {size} px tiles "
                            f"({type(error).__name__}: {str(error).strip().splitlines()[0][:160]}).",
                            "Its input height and width must be a multiple of its down-sampling factor: set "
                            "preprocess.tile.size to a multiple of 32, or re-export the model with Cellwright so "
                            "its package states the size multiple.") from error
        if isinstance(out, (list, tuple)):
            out = out[0]
        elif isinstance(out, Mapping):
            out = next(iter(out.values()))
        return np.asarray(out, np.float32)

    return call


#: Compiled forward passes per model (see :func:`_call`).
_FORWARD: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _forward(model: Any) -> Any:
    """The model's forward pass as a ``tf.function`` that traces once per input shape and never generalises the
    shape (``predict_on_batch`` does after a few shapes, and some Keras layers, e.g. UpSampling2D, then fail);
    the eager call on other Keras backends."""
    fn = _FORWARD.get(model)
    if fn is None:
        import keras

        def eager(x: Any) -> Any:
            return model(x, training=False)

        fn = eager
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            fn = tf.function(eager, reduce_retracing=False)
        _FORWARD[model] = fn
    return fn


def _call(model: Any, batch: np.ndarray) -> Any:
    """One network call on a float32 batch; NumPy outputs."""
    if not callable(model):  # a wrapped model (e.g. ONNX) with only predict_on_batch
        return model.predict_on_batch(batch)
    out = _forward(model)(batch)
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    if isinstance(out, Mapping):
        return {k: np.asarray(v) for k, v in out.items()}
    return np.asarray(out)


def _call_coarse(model: Any, batch: np.ndarray) -> Any:
    """:func:`_call` without the network's final repeat of each pixel (see :mod:`builder.workflow.coarse_network`)."""
    if not callable(model):  # an ONNX copy: its graph already leaves the repeat out
        return model.predict_coarse(batch)
    from builder.workflow.coarse_network import coarse_keras_model

    return _call(coarse_keras_model(model), batch)


def _coarse_repeat(model: Any, recipe: Recipe, plan: TilePlan) -> int:
    """The repeat a coarse output would leave out, when one is worth taking: the network ends by repeating each
    pixel, the image goes through it in one call (tiles blend at full resolution), the output is post-processed
    on the network's grid (star-convex polygons) and without test-time augmentation; else 1."""
    from builder.workflow.coarse_network import output_repeat

    task = get_task(recipe.task)
    if not (plan.whole and task.pixel_output and task.postprocesses_on_grid(recipe)) or recipe.evaluate.postprocess.tta:
        return 1
    return output_repeat(model)


def _is_size_error(error: Exception) -> bool:
    """True for the shape errors a network raises on an input size it cannot take (Concat, reshape, add)."""
    text = f"{type(error).__name__} {error}".lower()
    return any(key in text for key in ("concat", "dimension", "incompatible shapes", "must match", "shape"))


def tiling(model: Any, shape: tuple[int, int], recipe: Recipe) -> TilePlan:
    """The :class:`~builder.workflow.tiling.TilePlan` for an image of ``shape`` (Y, X) on the network's grid."""
    factor = math.lcm(downsampling_factor(recipe), model_size_multiple(model))
    return plan_tiles(model, shape, recipe, factor=factor)


def network_output(model: Any, x: np.ndarray, recipe: Recipe, *, coarse: bool = False) -> Any:
    """Run the network on one normalised image: ``(K,)`` for classifiers, else ``(Y, X, K)``.

    The image goes through the network in one call when it fits in memory, else in tiles of
    ``preprocess.tile.size`` that overlap by the network's receptive field (see
    :func:`builder.workflow.tiling.plan_tiles`), padded to multiples of the downsampling factor. With
    ``evaluate.postprocess.tta`` the output is the mean over the image's eight flips and quarter turns
    (:func:`builder.workflow.tta.dihedral_mean`), each tiled the same way.

    With ``coarse``, a network that ends by repeating each pixel (the U-Net's ``grid``) may instead give a
    :class:`~builder.tasks.zoomed_output.CoarseOutput`, its output before that repeat (see
    :func:`_coarse_repeat` for when); :func:`to_image_grid` and :func:`finish_prediction` take it.
    """
    x = np.asarray(as_yxc(x), np.float32)
    predict = _predict_batch(model)
    if not get_task(recipe.task).pixel_output:
        return predict(x[None])[0].reshape(-1)
    if recipe.evaluate.postprocess.tta:
        from builder.workflow.tta import dihedral_mean

        return dihedral_mean(lambda image: _tiled_output(model, predict, image, recipe), x)
    if coarse:
        plan = tiling(model, x.shape[:2], recipe)
        repeat = _coarse_repeat(model, recipe, plan)
        if repeat > 1:
            return _coarse_outputs(model, [x], plan, repeat)[0]
    return _tiled_output(model, predict, x, recipe)


def _coarse_outputs(model: Any, xs: Sequence[np.ndarray], plan: TilePlan, repeat: int) -> list[Any]:
    """:class:`~builder.tasks.zoomed_output.CoarseOutput` of images of one shape, in one call, each padded
    exactly as alone."""
    from builder.data.patches import pad_whole
    from builder.tasks.zoomed_output import CoarseOutput

    height, width = xs[0].shape[:2]
    padded = [pad_whole(x, plan.tile) for x in xs]
    batch = padded[0][None] if len(padded) == 1 else np.stack(padded)
    out = _predict_batch(model, coarse=True)(batch)
    rows, cols = -(-height // repeat), -(-width // repeat)
    if out.shape[1] * repeat != batch.shape[1] or out.shape[2] * repeat != batch.shape[2]:
        where = getattr(model, "path", "") or "model output"
        raise DataError(where, f"The network should give {repeat} times fewer rows and columns than it takes "
                        f"before its final repeat (U-Net grid: {repeat}); it gave {out.shape[1]}x{out.shape[2]} "
                        f"for a {batch.shape[1]}x{batch.shape[2]} input.",
                        "Delete the run's model.onnx (the next prediction writes it again from the checkpoint), "
                        "or predict with --engine keras.")
    return [CoarseOutput(np.ascontiguousarray(o[:rows, :cols]), repeat, (height, width)) for o in out]


def _tiled_output(model: Any, predict: Any, x: np.ndarray, recipe: Recipe) -> np.ndarray:
    """The pixel output of one normalised image, in one call or in tiles (see :func:`network_output`)."""
    from builder.data.patches import predict_tiled

    plan = tiling(model, x.shape[:2], recipe)
    return predict_tiled(predict, x, tile=plan.tile, overlap=plan.overlap, align=plan.align, batch_size=TILE_BATCH,
                         margin=plan.margin)


def network_outputs(model: Any, xs: Sequence[np.ndarray], recipe: Recipe, *, coarse: bool = False) -> list[Any]:
    """:func:`network_output` of several normalised images, with fewer network calls.

    Images of one shape that go through the network whole (see :func:`builder.workflow.tiling.images_per_call`)
    are stacked into one call of up to as many images as the memory estimate allows, each padded exactly as
    alone; others (different shapes, tiled images, ``evaluate.postprocess.tta``) go one by one. Outputs equal
    one-at-a-time prediction (``coarse``: as :func:`network_output`).
    """
    from builder.data.patches import pad_whole

    xs = [np.asarray(as_yxc(x), np.float32) for x in xs]
    if not xs:
        return []
    per_call = images_per_call(model, xs[0].shape[:2], recipe)
    if len(xs) == 1 or per_call <= 1 or len({x.shape for x in xs}) != 1 or recipe.evaluate.postprocess.tta:
        return [network_output(model, x, recipe, coarse=coarse) for x in xs]
    predict = _predict_batch(model)
    pixel = get_task(recipe.task).pixel_output
    plan = tiling(model, xs[0].shape[:2], recipe) if pixel else None
    size = plan.tile if plan is not None else None
    repeat = _coarse_repeat(model, recipe, plan) if coarse and plan is not None else 1
    outputs: list[Any] = []
    for start in range(0, len(xs), per_call):
        chunk = xs[start:start + per_call]
        if plan is not None and repeat > 1:
            outputs += _coarse_outputs(model, chunk, plan, repeat)
            continue
        if size is None:
            outputs += [p.reshape(-1) for p in predict(np.stack(chunk))]
            continue
        height, width = chunk[0].shape[:2]
        outputs += [p[:height, :width] for p in predict(np.stack([pad_whole(x, size) for x in chunk]))]
    return outputs


def images_per_call(model: Any, shape: tuple[int, int], recipe: Recipe) -> int:
    """How many images of ``shape`` (Y, X; network grid) one network call may take: classifiers
    :data:`~builder.workflow.tiling.MAX_IMAGES_PER_CALL`, images predicted whole as many as the memory estimate
    of tiling allows (at most that many), tiled images 1 (their tiles are batched instead)."""
    from builder.workflow.tiling import MAX_IMAGES_PER_CALL, images_in_memory

    if not get_task(recipe.task).pixel_output:
        return MAX_IMAGES_PER_CALL
    plan = tiling(model, shape, recipe)
    return images_in_memory(model, plan) if plan.whole else 1


def interpret_output(output: np.ndarray, recipe: Recipe, params: Mapping[str, Any]) -> dict[str, Any]:
    """The task result for one network output (see :func:`predict_image` for the keys)."""
    return get_task(recipe.task).interpret(output, recipe, params)


def _denormalise(out: np.ndarray, stats: NormStats) -> np.ndarray | None:
    n = out.shape[-1]
    if stats.scale.size not in (1, n):
        return None
    return (out * stats.scale + stats.offset).astype(np.float32)


def full_resolution_output(model: Any, raw: np.ndarray, recipe: Recipe, *, stats: NormStats | None = None,
                           pixel_size: float | None = None, diameter: float | None = None
                           ) -> tuple[np.ndarray, np.ndarray, NormStats]:
    """Network output of one raw image, brought back to the image's own pixel grid.

    The image is rescaled and normalised like the training images (:func:`prepare`), run through the network, and
    the output (probabilities, distances, restored intensities) is interpolated linearly back to the image's size:
    post-processing then draws outlines at full resolution instead of enlarging labels made on the coarse grid.

    Returns
    -------
    output : (Y, X, K) or (K,) float32
        At the image's size (pixel tasks).
    x : (Y', X', C) float32
        The normalised network input (on the network's grid).
    stats : NormStats
        The normalisation statistics used.
    """
    x, used = prepare(raw, recipe, model=model, stats=stats, pixel_size=pixel_size, diameter=diameter)
    return to_image_grid(network_output(model, x, recipe, coarse=True), raw.shape[:2], x.shape[:2], recipe), x, used


def to_image_grid(output: np.ndarray, shape: tuple[int, ...], grid: tuple[int, ...], recipe: Recipe) -> Any:
    """Network output on the network's ``grid`` (Y', X') interpolated linearly to the image's ``shape`` (Y, X).

    For a task that post-processes on the network's grid (``Task.postprocesses_on_grid``, e.g. star-convex
    polygons) a :class:`~builder.tasks.zoomed_output.ZoomedOutput` instead: the grid output, which becomes the
    interpolated array only where something asks for it as an array. A
    :class:`~builder.tasks.zoomed_output.CoarseOutput` (see :func:`network_output`) becomes such a ZoomedOutput
    (also when ``grid`` is the image's size) or, for other tasks, the repeated array.
    """
    from builder.tasks.zoomed_output import CoarseOutput, ZoomedOutput

    task = get_task(recipe.task)
    size = (int(shape[0]), int(shape[1]))
    if isinstance(output, CoarseOutput):
        if task.pixel_output and task.postprocesses_on_grid(recipe):
            return ZoomedOutput(output.coarse, size, lambda out: _enlarge(out, size, grid, recipe),
                                repeat=output.repeat, grid_shape=output.grid_shape)
        output = output.array()
    if not task.pixel_output or tuple(grid) == tuple(shape):
        return output
    if task.postprocesses_on_grid(recipe):
        return ZoomedOutput(output, size, lambda out: _enlarge(out, size, grid, recipe))
    return _enlarge(output, size, grid, recipe)


def _enlarge(output: np.ndarray, shape: tuple[int, int], grid: tuple[int, ...], recipe: Recipe) -> np.ndarray:
    """``output`` (on the network's ``grid``) interpolated to ``shape``, values measured in pixels scaled to
    match (``Task.output_at_zoom``)."""
    zoom = float(np.mean(np.divide(shape, grid)))
    output = resize_yx(output, shape, order=1)
    return get_task(recipe.task).output_at_zoom(output, recipe, zoom)  # e.g. distances in pixels


def prepare_image(model: Any, image: Any, recipe: Recipe, *, norm_stats: Any = None,
                  pixel_size: float | None = None, diameter: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray, NormStats]:
    """The first half of :func:`predict_image` (same arguments): ``(raw (Y, X, C), network input, stats used)``."""
    from builder.data.object_scale import training_diameter

    raw = as_yxc(image)
    in_stats, _ = resolve_norm_stats(norm_stats)
    if diameter is None and recipe.preprocess.object_diameter is not None:
        diameter = training_diameter(recipe.preprocess, norm_stats)
    x, used = prepare(raw, recipe, model=model, stats=in_stats, pixel_size=pixel_size, diameter=diameter)
    return raw, x, used


def finish_prediction(output: np.ndarray, raw: np.ndarray, x: np.ndarray, used: NormStats, recipe: Recipe, *,
                      norm_stats: Any = None, postprocess: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The second half of :func:`predict_image`: the network ``output`` for input ``x`` of image ``raw`` brought
    to the image's grid and turned into the task's result (the same dict as :func:`predict_image`)."""
    params = postprocess_settings(recipe, postprocess)
    output = to_image_grid(output, raw.shape[:2], x.shape[:2], recipe)
    result = interpret_output(output, recipe, params)
    if get_task(recipe.task).image_target:
        from builder.data.normalize import output_stats

        result["restored_intensity"] = _denormalise(result["restored"], output_stats(norm_stats, used))
    return {"task": recipe.task, "output": output, "input": x, "postprocess": params, **result}


def predict_image(
    model: Any,
    image: Any,
    recipe: Recipe,
    *,
    norm_stats: Any = None,
    postprocess: Mapping[str, Any] | None = None,
    pixel_size: float | None = None,
    diameter: float | None = None,
) -> dict[str, Any]:
    """Predict one raw image of any size.

    Parameters
    ----------
    model : keras.Model
        Trained model (outputs as in the compiler's contract).
    image : (Y, X, C) or (Y, X) array
        Raw pixel values, as read by :func:`builder.data.readers.read_image`.
    recipe : Recipe
        The recipe the model was trained with (task, normalisation, tiling, post-processing).
    norm_stats : NormStats or dict, optional
        Training's per-dataset statistics (a run's ``normalization.json`` contents, or the input stats alone);
        per-image normalisation when left out.
    postprocess : dict, optional
        ``threshold``, ``seed_threshold``, ``min_size`` overriding ``evaluate.postprocess`` (e.g. tuned values).
    pixel_size : float, optional
        Pixel size of ``image`` in µm, for ``preprocess.resample_to``.
    diameter : float, optional
        Diameter (px) of the objects in ``image``, for ``preprocess.object_diameter`` (default: the diameter the
        model was trained at, so new images are rescaled like the training images).

    Returns
    -------
    dict
        Always ``task``, ``output`` (raw network output: ``(K,)`` probabilities for classification, else
        ``(Y, X, K)`` float32 at the image's size; post-processing works on it at that size; for star-convex
        instances at object scale a :class:`~builder.tasks.zoomed_output.ZoomedOutput`, the output on the
        network's grid that becomes the full-size array only where asked for one), ``input``
        (normalised network input) and ``prediction``.
        classification: ``class_index`` (int), ``probabilities`` ``(K,)``; segmentation: ``probabilities``
        ``(Y, X, K)``, ``mask`` ``(Y, X)`` int32; instance_segmentation: ``labels`` ``(Y, X)`` int32;
        image_to_image: ``restored`` ``(Y, X, C)`` (normalised units) and ``restored_intensity`` (mapped back
        to intensities with :func:`builder.data.normalize.output_stats`; None if the channel counts do not allow it).
    """
    raw, x, used = prepare_image(model, image, recipe, norm_stats=norm_stats, pixel_size=pixel_size,
                                 diameter=diameter)
    return finish_prediction(network_output(model, x, recipe, coarse=True), raw, x, used, recipe, norm_stats=norm_stats,
                             postprocess=postprocess)


def overlap_warning(model: Any, recipe: Recipe) -> dict[str, str] | None:
    """A warning (``where``, ``what``, ``fix``) when tiles cannot equal whole-image prediction: the network looks
    at the whole image (group normalisation, global pooling) or has a fixed input size smaller than its field."""
    from builder.workflow.tiling import memory_side

    if not get_task(recipe.task).pixel_output:
        return None
    plan = tiling(model, (1 << 20, 1 << 20), recipe)
    if plan.exact:
        return None
    reach = network_reach(model)
    if not reach.local:
        return {"where": "model",
                "what": "The network uses statistics of the whole image (group normalisation or global pooling), "
                        f"so images larger than about {memory_side(model)} px, which are predicted in tiles, may "
                        "show seams at tile edges.",
                "fix": "Use batch normalisation (model params norm: batch) for images this large, or predict "
                       "smaller crops."}
    if plan.overlap >= reach.field:
        return None
    return {"where": "preprocess.tile.overlap",
            "what": f"Tiles overlap by {plan.overlap} px but the network sees {reach.field} px around each pixel "
                    "(its receptive field); results of large images may show seams at tile edges.",
            "fix": "The model has a fixed input size: rebuild it with a free input size (so tiles can overlap "
                   "more), or predict images of its input size."}

"""Recipe -> ``tf.data`` training and validation datasets (patches, augmentation, targets, batching, prefetch).

Images are read once, resampled and normalised in NumPy (by :mod:`builder.data.preprocess`, the same functions
prediction uses) and kept in memory. Each epoch a seeded generator cuts
random patches (foreground oversampled); augmentation runs in parallel ``map`` calls with per-sample seeds
(reproducible); the task's ``target_fn`` then turns augmented masks into training targets.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.data.augment import make_augmenter
from builder.data.layouts import Dataset, Sample
from builder.data.normalize import NormStats, target_relation
from builder.data.patches import Balance, foreground_points, grid_patches, pad_to, random_patch_corner
from builder.data.preprocess import dataset_stats, normalise_input, read_input, to_network_grid
from builder.data.readers import read_image
from builder.errors import DataError
from builder.tasks import get_task

if TYPE_CHECKING:
    from builder.recipe import Recipe
    from builder.recipe.sections.data import DataSection
    from builder.recipe.sections.preprocess import Normalize, PreprocessSection

TargetFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class LoadedData:
    """Images (normalised float32 ``Y,X,C``), their targets and labels for one split."""

    images: list[np.ndarray] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)  # masks (int32 Y,X,1) or target images (float32)
    labels: list[int] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    target_dtypes: list[str] = field(default_factory=list)  # the target files' own pixel types (e.g. "uint8")
    pixel_sizes: list[float | None] = field(default_factory=list)  # µm per pixel of each image (None: unknown)


def load_split(samples: list[Sample], data: DataSection, pre: PreprocessSection, *,
               size: tuple[int, int] | None = None, skipped: list[str] | None = None,
               classes: list[str] | None = None) -> LoadedData:
    """Read the images, masks and targets of ``samples`` onto the network's pixel grid; not yet normalised.

    Parameters
    ----------
    samples : list of Sample
    data : DataSection
        The recipe's ``data:`` section (channels, pixel size, mask kind, classes, skip_unreadable).
    pre : PreprocessSection
        The recipe's ``preprocess:`` section (``resample_to``).
    size : (int, int), optional
        Resize whole images to this size (classification).
    skipped : list of str, optional
        Collects unreadable files when ``data.skip_unreadable`` is set (otherwise they raise).
    classes : list of str, optional
        Fixes the index of each class label (new labels are appended).

    Returns
    -------
    LoadedData
        Images as float32 ``Y,X,C`` (see :func:`builder.data.preprocess.to_network_grid`).
    """
    out = LoadedData()
    classes = classes if classes is not None else list(data.classes or [])
    for sample in samples:
        try:
            image, mask, markers = _read_sample(sample, data)
            target = read_image(sample.target_path) if sample.target_path else None
        except DataError as error:
            if data.skip_unreadable and skipped is not None:
                skipped.append(error.where)
                continue
            raise
        if image.axes != "YXC":
            raise DataError(str(sample.image_path), f"is a time-lapse ({image.array.shape[0]} frames); training "
                            "and evaluation use single 2D images.", "Save each frame as its own image.")
        pixel_size = image.pixel_size or data.pixel_size
        out.pixel_sizes.append(pixel_size)
        out.images.append(to_network_grid(image.array, pre, pixel_size=pixel_size, size=size,
                                          where=str(sample.image_path)))
        if mask is not None:
            m = to_network_grid(mask.array[..., :1].astype(np.int32), pre, pixel_size=pixel_size, order=0,
                                where=str(sample.mask_path))
            if data.mask_kind == "binary":
                m = (m > 0).astype(np.int32)
            elif markers is not None:
                from builder.data.partial_masks import ignore_unannotated

                marks = to_network_grid(markers.array[..., :1].astype(np.int32), pre, pixel_size=pixel_size, order=0,
                                        where=str(sample.markers_path))
                m = ignore_unannotated(m[..., 0], marks[..., 0])[..., None]
            out.targets.append(m)
        elif target is not None:
            out.target_dtypes.append(target.array.dtype.name)
            out.targets.append(to_network_grid(target.array, pre, pixel_size=target.pixel_size or pixel_size,
                                               where=str(sample.target_path)))
        if sample.label is not None:
            if sample.label not in classes:
                classes.append(sample.label)
            out.labels.append(classes.index(sample.label))
        out.samples.append(sample)
    return out


def _normalise(loaded: LoadedData, cfg: Normalize, stats: NormStats | None, *, targets: bool = False) -> None:
    arrays = loaded.targets if targets else loaded.images
    for i, arr in enumerate(arrays):
        arrays[i] = normalise_input(arr, cfg, stats)[0]


def _read_sample(sample: Sample, data: DataSection) -> tuple[Any, Any, Any]:
    """(image, mask or None, TRA markers or None) of a sample; one frame of a multi-frame file when it is one."""
    if sample.frame is None:
        image = read_input(sample.image_path, data)
        mask = read_image(sample.mask_path) if sample.mask_path else None
    else:
        from builder.data.timelapse import is_labels_file, read_sequence_file, take_frame

        where = str(sample.image_path)
        image = take_frame(read_sequence_file(sample.image_path, data.channels, data.file_channels), sample.frame,
                           where)
        mask = None
        if sample.mask_path and is_labels_file(Path(sample.mask_path)):
            mask = take_frame(read_sequence_file(sample.mask_path), sample.frame, str(sample.mask_path))
        elif sample.mask_path:
            mask = read_image(sample.mask_path)
    markers = read_image(sample.markers_path) if sample.markers_path else None
    return image, mask, markers


def make_training_datasets(
    recipe: Recipe,
    dataset: Dataset,
    *,
    target_fn: TargetFn | None = None,
    batch_size: int | None = None,
    start_sample: int = 0,
) -> tuple[Any, Any, dict[str, Any]]:
    """Build the training and validation ``tf.data.Dataset`` of a recipe.

    Parameters
    ----------
    recipe : Recipe
    dataset : Dataset
        The samples found by :func:`builder.data.layouts.discover` (once per run).
    target_fn : callable, optional
        ``mask (Y, X, 1) int32 -> target (Y, X, K) float32``, applied to each augmented patch (e.g. the
        three-class target of instance segmentation). Without it masks are given as int32 labels (Y, X, 1).
    batch_size : int, optional
        Defaults to ``train.batch_size`` (8 when that is ``'auto'``).
    start_sample : int
        Training samples already drawn (when resuming: finished epochs x steps per epoch x batch size), so that
        patches and augmentation continue the random streams exactly where the interrupted run stopped, even when
        an epoch is not a whole number of passes over the training images.

    Returns
    -------
    train_ds : tf.data.Dataset
        Repeats forever: batches of ``(image (B,P,P,C) float32, target)``; target is ``(B,P,P,K)`` for pixel
        tasks and ``(B,)`` int32 class indices for classification. Use ``info["steps_per_epoch"]``.
    val_ds : tf.data.Dataset or None
        Fixed, un-augmented validation batches (grid patches of the validation images); None if no validation set.
    info : dict
        ``input_shape``, ``n_channels``, ``classes``, ``steps_per_epoch``, ``validation_steps``, ``normalize``
        (per-dataset stats or None), ``skipped`` (unreadable files), ``split`` (for split.json), ``patch_size``.
    """
    import tensorflow as tf

    spec = get_task(recipe.task)
    spec.check_trainable()
    if not dataset.splits["train"]:
        raise DataError(str(dataset.root), "no training images found.", "Run 'cellwright check' on the recipe.")
    pre = recipe.preprocess
    if batch_size is None:
        batch_size = recipe.train.batch_size if isinstance(recipe.train.batch_size, int) else 8
    skipped: list[str] = []
    classes = list(recipe.data.classes or dataset.classes or [])
    classification = spec.whole_image_input
    size = (pre.image_size or pre.patch.size) if classification else pre.patch.size
    whole = (size, size) if classification else None
    train = load_split(dataset.splits["train"], recipe.data, pre, size=whole, skipped=skipped, classes=classes)
    val = load_split(dataset.splits["validation"], recipe.data, pre, size=whole, skipped=skipped, classes=classes)
    if not train.images:
        raise DataError(str(dataset.root), "no readable training images.", "Run 'cellwright check' on the recipe.")
    norm = pre.normalize
    relation = None
    if spec.image_target and train.targets and (pre.target_normalize or norm).per == "image":
        relation = target_relation(train.images, train.targets, norm, pre.target_normalize or norm)
    stats = dataset_stats(train.images, norm)
    _normalise(train, norm, stats)
    _normalise(val, norm, stats)
    pixel_target = spec.image_target
    target_stats = None
    if pixel_target and train.targets:
        tnorm = pre.target_normalize or norm
        target_stats = dataset_stats(train.targets, tnorm)
        _normalise(train, tnorm, target_stats, targets=True)
        _normalise(val, tnorm, target_stats, targets=True)
    if pixel_target and not train.targets:  # noisy_only: the image is its own target
        train.targets = [im.copy() for im in train.images]
        val.targets = [im.copy() for im in val.images]
    seed = recipe.augment.seed if recipe.augment.seed is not None else recipe.train.seed
    n_channels = train.images[0].shape[-1]
    kind = None if classification else ("image" if pixel_target else "mask")
    augmenter = make_augmenter(recipe.augment, target=kind, intensity=not pixel_target)

    if classification:
        gen, n_per_epoch = _classification_generator(train.images, train.labels, seed, start_sample)
        label_spec = tf.TensorSpec([], tf.int32)
    else:
        gen, n_per_epoch = _patch_generator(train, size, pre.patch.per_image, pre.patch.foreground_fraction,
                                            seed, start_sample, foreground=not pixel_target,
                                            balance=pre.patch.balance)
        k = train.targets[0].shape[-1]
        label_spec = tf.TensorSpec([size, size, k], tf.float32 if pixel_target else tf.int32)
    signature = (tf.TensorSpec([size, size, n_channels], tf.float32), label_spec, tf.TensorSpec([2], tf.int64))
    ds = tf.data.Dataset.from_generator(gen, output_signature=signature).repeat()
    if classification:
        ds = ds.map(lambda x, y, s: (augmenter(x, None, s)[0], y), num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=True)
    else:
        ds = ds.map(lambda x, y, s: augmenter(x, y, s), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    target_info: dict[str, Any] = {}
    if target_fn is not None and not classification:
        ds = _apply_target_fn(ds, target_fn, train.targets[0], size, target_info)
    train_ds = ds.batch(batch_size).prefetch(tf.data.AUTOTUNE).with_options(_without_autotune_model())

    val_ds, n_val = None, 0
    if val.images:
        if classification:
            xs = np.stack(val.images)
            ys: np.ndarray = np.asarray(val.labels, np.int32)
        else:
            xs = np.concatenate([grid_patches(im, size) for im in val.images])
            ys = np.concatenate([grid_patches(pad_to(t, size, mode="constant") if kind == "mask" else t, size)
                                 for t in val.targets])
            if target_fn is not None:
                ys = np.stack([np.asarray(target_fn(y), np.float32) for y in ys])
        n_val = len(xs)
        val_ds = tf.data.Dataset.from_tensor_slices((xs.astype(np.float32), ys)).batch(batch_size).prefetch(2)

    info = {
        "input_shape": (size, size, n_channels),
        "n_channels": n_channels,
        "channel_names": list(recipe.data.channels or []),
        "classes": classes,
        "patch_size": size,
        "batch_size": batch_size,
        "steps_per_epoch": max(1, math.ceil(n_per_epoch / batch_size)),
        "validation_steps": max(1, math.ceil(n_val / batch_size)) if n_val else 0,
        "n_train_images": len(train.images),
        "n_validation_images": len(val.images),
        "normalize": stats.to_dict() if stats is not None else None,
        "target_normalize": target_stats.to_dict() if target_stats is not None else None,
        "target_from_input": relation,
        "skipped": skipped,
        "split": dataset.to_split_json(),
        "seed": seed,
        **target_info,
    }
    return train_ds, val_ds, info


def _without_autotune_model() -> Any:
    """tf.data options that turn off the autotuning model thread of the training stream.

    That thread sleeps up to a minute between its rounds, and the training stream is infinite (``repeat``): when
    ``fit`` ends and drops its iterator, the iterator waits for the thread's sleep to end (25 to 47 s, with no
    CPU used, in 3 of 6 quick-start runs). ``AUTOTUNE`` parallelism and prefetching then use fixed values (the
    number of CPU cores for the parallel map calls).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _resume_position(start_sample: int, n: int) -> dict[str, int]:
    """Where the sample stream continues: generator pass ``start_sample // n``, skipping ``start_sample % n``."""
    if start_sample < 0:
        raise ValueError(f"Invalid value received for argument `start_sample`. Expected an integer >= 0. "
                         f"Received: start_sample={start_sample}")
    return {"pass": start_sample // max(n, 1), "skip": start_sample % max(n, 1)}


def _classification_generator(images: list[np.ndarray], labels: list[int], seed: int, start_sample: int):
    """One pass per call: every training image once, in an order drawn from ``(seed, pass)``."""
    state = _resume_position(start_sample, len(images))

    def gen():
        epoch, skip = state["pass"], state["skip"]
        state["pass"], state["skip"] = epoch + 1, 0
        rng = np.random.default_rng([seed, epoch])
        for i, j in enumerate(rng.permutation(len(images))):
            if i >= skip:
                yield images[j], np.int32(labels[j]), np.asarray([seed, epoch * 1_000_003 + i], np.int64)

    return gen, len(images)


def _patch_generator(train: LoadedData, size: int, per_image: int, fg_fraction: float, seed: int,
                     start_sample: int, *, foreground: bool, balance: Balance = "pixels"):
    """One pass per call: ``per_image`` random patches of every training image, drawn from ``(seed, pass)``.

    The stream depends only on the sample's global position, so a resumed run (``start_sample`` > 0) sees the
    same patches as the uninterrupted one; skipped samples still draw their patch corners to keep ``rng`` in step.
    """
    images = [pad_to(im, size) for im in train.images]
    targets = [pad_to(t, size, mode="constant" if foreground else "reflect") for t in train.targets]
    points = [foreground_points(t, seed=seed, balance=balance) if foreground and fg_fraction > 0 else None
              for t in targets]
    n = len(images) * per_image
    state = _resume_position(start_sample, n)

    def gen():
        epoch, skip = state["pass"], state["skip"]
        state["pass"], state["skip"] = epoch + 1, 0
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(n) % len(images)
        for i, j in enumerate(order):
            y, x = random_patch_corner(images[j].shape[:2], size, rng, points=points[j],
                                       foreground_fraction=fg_fraction)
            if i >= skip:
                yield (images[j][y:y + size, x:x + size], targets[j][y:y + size, x:x + size],
                       np.asarray([seed, epoch * 1_000_003 + i], np.int64))

    return gen, n


def _apply_target_fn(ds: Any, target_fn: TargetFn, example: np.ndarray, size: int, info: dict[str, Any]) -> Any:
    import tensorflow as tf

    probe = np.asarray(target_fn(pad_to(example, size, mode="constant")[:size, :size].astype(np.int32)))
    k = probe.shape[-1] if probe.ndim == 3 else 1
    info["target_channels"] = k

    def call(mask: np.ndarray) -> np.ndarray:
        out = np.asarray(target_fn(mask.astype(np.int32)), np.float32)
        return out.reshape(out.shape[0], out.shape[1], -1)

    def wrapped(x: Any, y: Any) -> tuple[Any, Any]:
        t = tf.numpy_function(call, [y], tf.float32, stateful=False)
        t.set_shape([size, size, k])
        return x, t

    return ds.map(wrapped, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

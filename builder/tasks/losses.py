"""Loss selection per task (no keras import until a loss is built).

:func:`resolve_loss` checks a recipe's ``train.loss`` against the task without importing keras, so the
recipe validator can call it; :func:`make_loss` builds the Keras 3 loss object (classes in
``builder.tasks._keras_losses``, serialisable as ``cellwright>ClassLoss`` / ``cellwright>ImageLoss``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from builder.errors import CellwrightError

_CLASS_LOSSES = ("cross_entropy", "dice", "focal", "cross_entropy+dice", "focal+dice")

#: task (or task/variant) -> (default loss, allowed losses)
LOSSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "classification": ("cross_entropy", ("cross_entropy", "focal")),
    "segmentation": ("cross_entropy+dice", _CLASS_LOSSES),
    "instance_segmentation/three_class": ("cross_entropy+dice", _CLASS_LOSSES),
    "instance_segmentation/distance": ("mse", ("mse", "mae")),
    "image_to_image": ("mae", ("mae", "mse", "ssim+mae")),
    "image_to_image/self_supervised": ("mse", ("mse", "mae")),
}


def _variant(task: str, instance_target: str, self_supervised: bool) -> str:
    if task == "tracking":
        from builder.tasks.tracking import not_trainable_error

        raise not_trainable_error()
    if task == "instance_segmentation":
        return f"{task}/{instance_target}"
    if task == "image_to_image" and self_supervised:
        return f"{task}/self_supervised"
    return task


def resolve_loss(task: str, name: str = "auto", *, instance_target: str = "three_class",
                 self_supervised: bool = False) -> str:
    """The concrete loss name for a task ("auto" -> the task's default); raises if it does not fit the task."""
    key = _variant(task, instance_target, self_supervised)
    if key not in LOSSES:
        raise CellwrightError("task", f"Unknown task or variant {key!r}.",
                              f"Use one of: {', '.join(sorted(LOSSES))}.")
    default, allowed = LOSSES[key]
    if name == "auto":
        return default
    if name not in allowed:
        raise CellwrightError(
            "train.loss",
            f"The loss {name!r} does not fit the task {key.replace('/', ' (') + (')' if '/' in key else '')}. "
            f"Expected one of: auto, {', '.join(allowed)}. Received: loss={name}",
            f"Set train.loss to 'auto' (uses {default}) or one of the listed losses.",
        )
    return name


def make_loss(
    task: str,
    name: str = "auto",
    n_classes: int | None = None,
    class_weights: Sequence[float] | None = None,
    *,
    label_smoothing: float = 0.0,
    instance_target: str = "three_class",
    self_supervised: bool = False,
    focal_gamma: float = 2.0,
) -> Any:
    """Build the Keras loss for a task.

    Parameters
    ----------
    task : str
        "classification", "segmentation", "instance_segmentation" or "image_to_image".
    name : str
        ``train.loss`` from the recipe ("auto", "cross_entropy", "dice", "focal", "cross_entropy+dice",
        "focal+dice", "mae", "mse", "ssim+mae").
    n_classes : int, optional
        Number of classes (classification, segmentation; 3 is used for the three-class instance target).
    class_weights : list of float, optional
        One weight per class for cross-entropy / focal terms (see ``classification.class_weights_from_labels``).
    label_smoothing : float
    instance_target : {"three_class", "distance"}
    self_supervised : bool
        Noise2Void blind-spot training: the loss only counts the masked pixels.
    focal_gamma : float

    Returns
    -------
    keras.losses.Loss
        Mean of per-sample values; y_true formats are described in the loss classes.
    """
    resolved = resolve_loss(task, name, instance_target=instance_target, self_supervised=self_supervised)
    from builder.tasks import _keras_losses as kl

    label = resolved.replace("+", "_")
    if resolved in ("mae", "mse", "ssim+mae"):
        return kl.ImageLoss(kind=resolved, masked=bool(self_supervised and task == "image_to_image"),
                            name=("masked_" if self_supervised and task == "image_to_image" else "") + label)
    if task == "instance_segmentation":
        n_classes = 3
    if n_classes is None or n_classes < 2:
        raise CellwrightError("data.classes", f"The {task} loss needs at least 2 classes. Received: n_classes="
                              f"{n_classes}", "List the class names in data.classes.")
    if class_weights is not None and len(class_weights) != n_classes:
        raise CellwrightError("train.class_weights", f"Expected {n_classes} weights (one per class). Received: "
                              f"{list(class_weights)}", "Give one weight per class, or use 'auto'.")
    return kl.ClassLoss(terms=tuple(resolved.split("+")), n_classes=n_classes, class_weights=class_weights,
                        label_smoothing=label_smoothing, focal_gamma=focal_gamma, name=label)

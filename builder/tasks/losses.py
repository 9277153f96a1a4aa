"""Loss selection per task (no keras import until a loss is built).

:func:`resolve_loss` checks a recipe's ``train.loss`` against the task's loss table (``Task.losses``, the one
table that training and the report read) without importing keras; :func:`build_loss` builds the Keras 3 loss
object (classes in ``builder.tasks._keras_losses``, serialisable as ``cellwright>ClassLoss`` / ``ImageLoss``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from builder.errors import CellwrightError
from builder.tasks.base import CLASS_LOSSES, IMAGE_LOSSES

__all__ = ["CLASS_LOSSES", "IMAGE_LOSSES", "build_loss", "make_loss", "resolve_loss"]



def resolve_loss(task: str, name: str = "auto", *, instance_target: str = "three_class",
                 self_supervised: bool = False) -> str:
    """The concrete loss name for a task ("auto" -> the task's default); raises if it does not fit the task."""
    from builder.tasks.registry import get_task

    spec = get_task(task)
    return spec.resolve_loss(name, spec.variant_for(instance_target=instance_target, self_supervised=self_supervised))


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
    """Build the Keras loss for a task (see :meth:`builder.tasks.base.Task.make_loss`).

    Parameters
    ----------
    task : str
        A registered task name.
    name : str
        ``train.loss`` from the recipe ("auto", "cross_entropy", "dice", "focal", "cross_entropy+dice",
        "focal+dice", "mae", "mse", "ssim+mae", "star").
    n_classes : int, optional
        Number of classes (classification, segmentation; 3 is used for the three-class instance target).
    class_weights : list of float, optional
        One weight per class for cross-entropy / focal terms (see ``classification.class_weights_from_labels``).
    label_smoothing : float
    instance_target : {"three_class", "distance", "star_convex"}
    self_supervised : bool
        Noise2Void blind-spot training: the loss only counts the masked pixels.
    focal_gamma : float
    """
    from builder.tasks.registry import get_task

    spec = get_task(task)
    variant = spec.variant_for(instance_target=instance_target, self_supervised=self_supervised)
    return spec.make_loss(name, variant=variant, n_classes=n_classes, class_weights=class_weights,
                          label_smoothing=label_smoothing, focal_gamma=focal_gamma)


def build_loss(
    resolved: str,
    *,
    task_output: str,
    masked: bool = False,
    n_classes: int | None = None,
    class_weights: Sequence[float] | None = None,
    label_smoothing: float = 0.0,
    focal_gamma: float = 2.0,
) -> Any:
    """Build the Keras 3 loss object for a resolved loss name.

    Parameters
    ----------
    resolved : str
        A concrete loss name (no "auto").
    task_output : str
        What the network outputs (``Task.output``): three-class instance maps always have 3 classes.
    masked : bool
        Noise2Void blind-spot training: the loss only counts the masked pixels.

    Returns
    -------
    keras.losses.Loss
        Mean of per-sample values; y_true formats are described in the loss classes.
    """
    from builder.tasks import _keras_losses as kl

    label = resolved.replace("+", "_")
    if resolved == "star":
        return kl.StarLoss(name=label)
    if resolved in IMAGE_LOSSES:
        return kl.ImageLoss(kind=resolved, masked=masked, name=("masked_" if masked else "") + label,
                            ignore_negative=task_output == "instance_maps")  # distance maps: -1 = no target
    if task_output == "instance_maps":
        n_classes = 3
    if n_classes is None or n_classes < 2:
        raise CellwrightError("data.classes", f"This loss needs at least 2 classes. Received: n_classes="
                              f"{n_classes}", "List the class names in data.classes.")
    if class_weights is not None and len(class_weights) != n_classes:
        raise CellwrightError("train.class_weights", f"Expected {n_classes} weights (one per class). Received: "
                              f"{list(class_weights)}", "Give one weight per class, or use 'auto'.")
    return kl.ClassLoss(terms=tuple(resolved.split("+")), n_classes=n_classes, class_weights=class_weights,
                        label_smoothing=label_smoothing, focal_gamma=focal_gamma, name=label)

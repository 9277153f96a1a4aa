"""Task registry: one :class:`TaskSpec` per recipe ``task:``; the engine asks it for targets, loss, metrics and
post-processing. Importing this module does not import TensorFlow or keras.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from builder.errors import CellwrightError

TargetFn = Callable[[Any], Any]


@dataclass(frozen=True)
class TaskSpec:
    """What the engine needs to know about a task.

    Attributes
    ----------
    name : str
        Recipe ``task:`` value.
    title : str
        Human-readable name.
    trainable : bool
        False for placeholders (tracking); :meth:`check_trainable` raises for them.
    output : str
        What the model outputs: "class_probabilities" (B, K), "pixel_probabilities" (B, Y, X, K),
        "instance_maps" (three-class probabilities or distance maps) or "image" (B, Y, X, C).
    primary_metric : str
        Key of the metrics dict used to rank models / tune post-processing (higher is better).
    targets : dict
        Target variant -> function turning a mask/label/target image into the training target (numpy).
    postprocess : dict
        Target variant -> function turning one network output (no batch axis) into the final result.
    metrics : callable
        Numpy metrics function over a dataset (see ``builder.tasks.metrics``).
    default_variant : str
        The variant used when none is given.
    """

    name: str
    title: str
    trainable: bool
    output: str
    primary_metric: str
    targets: dict[str, TargetFn] = field(default_factory=dict)
    postprocess: dict[str, Callable[..., Any]] = field(default_factory=dict)
    metrics: Callable[..., dict[str, Any]] | None = None
    default_variant: str = "default"

    def check_trainable(self) -> None:
        """Raise a CellwrightError when the task cannot be trained yet."""
        if not self.trainable:
            from builder.tasks.tracking import not_trainable_error

            raise not_trainable_error()

    def _pick(self, table: dict[str, Any], variant: str | None, what: str) -> Any:
        self.check_trainable()
        key = variant or self.default_variant
        if key not in table:
            raise CellwrightError(f"task: {self.name}", f"No {what} named {key!r} for this task.",
                                  f"Use one of: {', '.join(table) or '(none)'}.")
        return table[key]

    def target_fn(self, variant: str | None = None) -> TargetFn:
        """The numpy target function (e.g. instance labels -> three-class target) for ``variant``."""
        return self._pick(self.targets, variant, "target")

    def postprocess_fn(self, variant: str | None = None) -> Callable[..., Any]:
        """The post-processing function for ``variant``."""
        return self._pick(self.postprocess, variant, "post-processing")

    def default_loss(self, variant: str | None = None) -> str:
        """The loss name 'auto' stands for."""
        from builder.tasks.losses import resolve_loss

        self.check_trainable()
        return resolve_loss(self.name, "auto", instance_target=variant or "three_class",
                            self_supervised=variant == "self_supervised")

    def make_loss(self, name: str = "auto", **kwargs: Any) -> Any:
        """Build the Keras loss (imports keras); see ``builder.tasks.losses.make_loss``."""
        from builder.tasks.losses import make_loss

        self.check_trainable()
        return make_loss(self.name, name, **kwargs)


def _lazy(module: str, attr: str, **bound: Any) -> Callable[..., Any]:
    """A function that imports ``module.attr`` on first call (keeps the registry import cheap)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        fn = getattr(importlib.import_module(module), attr)
        return (partial(fn, **bound) if bound else fn)(*args, **kwargs)

    call.__name__ = attr
    call.__qualname__ = f"{module}.{attr}"
    call.__doc__ = f"Calls :func:`{module}.{attr}` (imported on first use)."
    return call


_T = "builder.tasks"
_TASKS: dict[str, TaskSpec] = {
    "classification": TaskSpec(
        name="classification", title="Image classification", trainable=True, output="class_probabilities",
        primary_metric="balanced_accuracy",
        targets={"default": _lazy(f"{_T}.classification", "class_index_target")},
        postprocess={"default": _lazy(f"{_T}.classification", "predict_classes")},
        metrics=_lazy(f"{_T}.metrics.classification", "classification_metrics"),
    ),
    "segmentation": TaskSpec(
        name="segmentation", title="Semantic segmentation", trainable=True, output="pixel_probabilities",
        primary_metric="mean_iou",
        targets={"default": _lazy(f"{_T}.segmentation", "class_mask_target"),
                 "binary": _lazy(f"{_T}.segmentation", "class_mask_target", binary=True)},
        postprocess={"default": _lazy(f"{_T}.segmentation", "labels_from_probabilities")},
        metrics=_lazy(f"{_T}.metrics.semantic", "semantic_metrics"),
    ),
    "instance_segmentation": TaskSpec(
        name="instance_segmentation", title="Instance segmentation", trainable=True, output="instance_maps",
        primary_metric="ap_mean", default_variant="three_class",
        targets={"three_class": _lazy(f"{_T}.instances", "three_class_training_target"),
                 "distance": _lazy(f"{_T}.instances", "distance_targets")},
        postprocess={"three_class": _lazy(f"{_T}.instances", "instances_from_three_class"),
                     "distance": _lazy(f"{_T}.instances", "instances_from_distance")},
        metrics=_lazy(f"{_T}.metrics.instances", "instance_metrics"),
    ),
    "image_to_image": TaskSpec(
        name="image_to_image", title="Image-to-image (restoration, label-free, Noise2Void)", trainable=True,
        output="image", primary_metric="psnr",
        targets={"default": _lazy(f"{_T}.image_to_image", "identity_target")},
        postprocess={"default": _lazy(f"{_T}.image_to_image", "postprocess_image"),
                     "self_supervised": _lazy(f"{_T}.image_to_image", "postprocess_image")},
        metrics=_lazy(f"{_T}.metrics.image", "image_metrics"),
    ),
    "tracking": TaskSpec(
        name="tracking", title="Cell tracking (not trainable yet)", trainable=False, output="tracks",
        primary_metric="",
    ),
}


def all_tasks() -> dict[str, TaskSpec]:
    """Every registered task by name."""
    return dict(_TASKS)


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` for a recipe ``task:`` value; unknown names raise with a did-you-mean hint."""
    if name in _TASKS:
        return _TASKS[name]
    close = difflib.get_close_matches(str(name), list(_TASKS), n=1)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    raise CellwrightError("task", f"Unknown task {name!r}. Expected one of: {', '.join(_TASKS)}.",
                          f"{hint}Set `task:` in the recipe to one of the listed tasks.")

"""Cross-field checks: rules that involve more than one key, in plain English.

Each check is a small function registered with :func:`register_check`; it takes a validated
:class:`~builder.recipe.schema.Recipe` and returns problems that name the recipe keys involved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from builder.errors import Problem
from builder.recipe.schema import Recipe

Check = Callable[[Recipe], list[Problem]]
_CHECKS: dict[str, Check] = {}


def register_check(name: str) -> Callable[[Check], Check]:
    """Register a cross-field check under ``name`` (returns the function unchanged)."""

    def decorator(function: Check) -> Check:
        if name in _CHECKS:
            raise ValueError(f"A recipe check named {name!r} is already registered.")
        _CHECKS[name] = function
        return function

    return decorator


def run_checks(recipe: Recipe) -> list[Problem]:
    """Run every registered check and return all problems found."""
    problems: list[Problem] = []
    for check in _CHECKS.values():
        problems.extend(check(recipe))
    return problems


def _problem(key: str, what: str, fix: str, severity: str = "error") -> Problem:
    return Problem(where=key, what=what, fix=fix, severity=severity, key=key)


@register_check("masks_for_segmentation")
def _segmentation_needs_masks(recipe: Recipe) -> list[Problem]:
    data = recipe.data
    if recipe.task not in ("segmentation", "instance_segmentation") or data.layout != "folders" or data.masks:
        return []
    return [_problem(
        "data.masks",
        f"The task is {recipe.task}, which learns from masks, but data.masks does not name a mask folder.",
        "Add `masks: masks` (the sub-folder with one mask per image, same file names) under `data`.",
    )]


@register_check("targets_for_image_to_image")
def _image_to_image_needs_targets(recipe: Recipe) -> list[Problem]:
    if recipe.task != "image_to_image" or recipe.train.self_supervised:
        return []
    if recipe.data.layout in ("folders", "paired") and not recipe.data.targets:
        return [_problem(
            "data.targets",
            "The task is image_to_image with paired training, but data.targets does not name a target folder.",
            "Add `targets: targets` under `data`, or set `train.self_supervised: true` to denoise from "
            "noisy images only.",
        )]
    if recipe.data.layout == "noisy_only":
        return [_problem(
            "train.self_supervised",
            "The data layout is noisy_only (no clean targets), so training must be self-supervised.",
            "Set `self_supervised: true` under `train`.",
        )]
    return []


@register_check("self_supervised_task")
def _self_supervised_only_for_image_to_image(recipe: Recipe) -> list[Problem]:
    if recipe.train.self_supervised and recipe.task != "image_to_image":
        return [_problem(
            "train.self_supervised",
            f"Self-supervised (Noise2Void) training is for image_to_image denoising, but the task is {recipe.task}.",
            "Remove `self_supervised: true`, or change `task` to image_to_image.",
        )]
    return []


_LAYOUTS_FOR_TASK = {
    "classification": ("class_folders", "manifest", "demo"),
    "segmentation": ("folders", "manifest", "demo"),
    "instance_segmentation": ("folders", "manifest", "demo"),
    "image_to_image": ("folders", "paired", "noisy_only", "manifest", "demo"),
    "tracking": ("ctc", "demo"),
}


@register_check("layout_fits_task")
def _layout_fits_task(recipe: Recipe) -> list[Problem]:
    allowed = _LAYOUTS_FOR_TASK[recipe.task]
    if recipe.data.layout in allowed:
        return []
    return [_problem(
        "data.layout",
        f"The data layout {recipe.data.layout!r} does not fit the task {recipe.task}.",
        f"Use one of: {', '.join(allowed)}.",
    )]


@register_check("patch_divisible")
def _patch_divisible_by_downsampling(recipe: Recipe) -> list[Problem]:
    factor = recipe.model.downsampling_factor()
    problems = []
    for key, size in (("preprocess.patch.size", recipe.preprocess.patch.size),
                      ("preprocess.tile.size", recipe.preprocess.tile.size),
                      ("preprocess.image_size", recipe.preprocess.image_size)):
        if size is None or factor <= 1 or size % factor == 0:
            continue
        lower, upper = (size // factor) * factor, (size // factor + 1) * factor
        options = " or ".join(str(v) for v in (lower, upper) if v > 0)
        problems.append(_problem(
            key,
            f"`{key}` is {size}, but the model shrinks images by a factor of {factor} "
            "(its number of down-sampling steps), so the size must be a multiple of it.",
            f"Use {options}, or make the model shallower.",
        ))
    return problems


@register_check("tile_overlap")
def _tile_overlap_smaller_than_tile(recipe: Recipe) -> list[Problem]:
    tile = recipe.preprocess.tile
    if tile.overlap * 2 < tile.size:
        return []
    return [_problem(
        "preprocess.tile.overlap",
        f"The tile overlap ({tile.overlap} px) must be less than half the tile size ({tile.size} px).",
        f"Use an overlap below {tile.size // 2}, e.g. {tile.size // 8}.",
    )]


@register_check("freeze_within_epochs")
def _freeze_within_epochs(recipe: Recipe) -> list[Problem]:
    problems = []
    for key, value in _find_key(recipe.model.model_dump(), "until_epoch", "model"):
        if isinstance(value, int) and value > recipe.train.epochs:
            problems.append(_problem(
                key,
                f"The backbone stays frozen until epoch {value}, but training lasts only {recipe.train.epochs} "
                "epochs, so the backbone would never be fine-tuned.",
                f"Use an until_epoch below {recipe.train.epochs}, or raise train.epochs.",
            ))
    return problems


@register_check("loss_fits_task")
def _loss_fits_task(recipe: Recipe) -> list[Problem]:
    loss = recipe.train.loss
    regression = {"mae", "mse", "ssim+mae"}
    if loss == "auto":
        return []
    if recipe.task == "image_to_image" and loss not in regression:
        return [_problem("train.loss", f"The loss {loss!r} is for classes, but image_to_image predicts intensities.",
                         "Use mae, mse or ssim+mae (or auto).")]
    if recipe.task != "image_to_image" and loss in regression:
        return [_problem("train.loss", f"The loss {loss!r} is for intensities, but the task {recipe.task} "
                         "predicts classes.", "Use cross_entropy, dice, focal or a combination (or auto).")]
    return []


@register_check("class_weights_count")
def _class_weights_match_classes(recipe: Recipe) -> list[Problem]:
    weights, classes = recipe.train.class_weights, recipe.data.classes
    if not isinstance(weights, list) or not classes or len(weights) == len(classes):
        return []
    return [_problem(
        "train.class_weights",
        f"`train.class_weights` has {len(weights)} values but data.classes names {len(classes)} classes.",
        "Give one weight per class, in the order of data.classes, or use `class_weights: auto`.",
    )]


@register_check("early_stopping_patience")
def _patience_below_epochs(recipe: Recipe) -> list[Problem]:
    stop = recipe.train.early_stopping
    if not stop.enabled or stop.patience < recipe.train.epochs:
        return []
    return [_problem(
        "train.early_stopping.patience",
        f"Early stopping waits {stop.patience} epochs, as long as the whole training ({recipe.train.epochs}), "
        "so it can never trigger.",
        "Lower the patience (e.g. a fifth of the epochs) or disable early stopping.",
        severity="warning",
    )]


@register_check("tracking_not_trainable_yet")
def _tracking_later(recipe: Recipe) -> list[Problem]:
    if recipe.task != "tracking":
        return []
    return [_problem(
        "task",
        "Tracking recipes can be written and validated, but training a tracking model is not available yet "
        "in this version of Cellwright.",
        "Segment each frame with an instance_segmentation recipe for now.",
        severity="warning",
    )]


def _find_key(data: Any, wanted: str, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}"
            if key == wanted:
                yield path, value
            yield from _find_key(value, wanted, path)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _find_key(value, wanted, f"{prefix}[{index}]")


@register_check("template_fits_task")
def _template_supports_task(recipe: Recipe) -> list[Problem]:
    if recipe.model.graph is not None or not recipe.model.template:
        return []
    from builder.templates import get_template

    template = get_template(recipe.model.template)
    if recipe.task in template.tasks or recipe.task == "tracking":
        return []
    fitting = [name for name, t in _all_templates().items() if recipe.task in t.tasks]
    return [_problem(
        "model.template",
        f"The template {recipe.model.template!r} does not make models for the task {recipe.task}.",
        f"Use one of: {', '.join(fitting)}." if fitting else "Write an explicit graph for this task.",
    )]


def _all_templates() -> dict[str, Any]:
    from builder.templates import all_templates

    return all_templates()

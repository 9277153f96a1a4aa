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


@register_check("task_rules")
def _task_rules(recipe: Recipe) -> list[Problem]:
    """The task's own rules: data layout, mask/target folders, self-supervision, loss (see ``Task.check_recipe``)."""
    from builder.tasks import get_task

    return get_task(recipe.task).check_recipe(recipe)


@register_check("tta_orientation_free")
def _tta_needs_orientation_free_output(recipe: Recipe) -> list[Problem]:
    """``evaluate.postprocess.tta`` averages outputs of turned images: only outputs without directions."""
    from builder.errors import CellwrightError
    from builder.tasks import get_task

    if not recipe.evaluate.postprocess.tta:
        return []
    try:
        task = get_task(recipe.task)
    except (CellwrightError, KeyError, ValueError):
        return []  # an unknown task is reported by its own check
    if task.orientation_free_output(recipe):
        return []
    return [_problem("evaluate.postprocess.tta",
                     "Expected a network output that means the same whichever way the image is turned (per-pixel "
                     f"maps). Received: tta=true with task={recipe.task}, instance_target="
                     f"{recipe.train.instance_target} (its outputs hold directions or one value per image).",
                     "Set evaluate.postprocess.tta: false (or use the three_class or distance instance target).")]


@register_check("segmenter_for_tracking")
def _segmenter_only_for_tracking(recipe: Recipe) -> list[Problem]:
    """``model.from`` (a trained segmenter used instead of training) belongs to tracking recipes."""
    from builder.errors import CellwrightError
    from builder.tasks import all_tasks, get_task

    try:
        accepts = get_task(recipe.task).accepts_trained_segmenter
    except (CellwrightError, KeyError, ValueError):
        return []  # an unknown task is reported by its own check
    if not recipe.model.from_ or accepts:
        return []
    able = " or ".join(t.name for t in all_tasks().values() if t.accepts_trained_segmenter)
    return [_problem("model.from", f"Expected task {able} with a trained segmenter. Received: task {recipe.task}.",
                     "Leave model.from out (a backbone from a shared model is model.params.backbone.from).")]


@register_check("pseudo_labels_task")
def _pseudo_labels_need_classes(recipe: Recipe) -> list[Problem]:
    """``train.pseudo_labels`` needs a task whose targets are class labels (classification)."""
    from builder.tasks import get_task

    if recipe.train.pseudo_labels is None or get_task(recipe.task).uses_labels:
        return []
    return [_problem("train.pseudo_labels", f"Pseudo-labels are for classification. Received: task={recipe.task!r}.",
                     "Remove train.pseudo_labels, or use task: classification.")]


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
    from builder.tasks import get_task
    from builder.templates import get_template

    task = get_task(recipe.task)
    template = get_template(recipe.model.template)
    if not task.trainable or template.supports(task):
        return []
    fitting = [name for name, t in _all_templates().items() if t.supports(task)]
    return [_problem(
        "model.template",
        f"The template {recipe.model.template!r} does not make models for the task {recipe.task}.",
        f"Use one of: {', '.join(fitting)}." if fitting else "Write an explicit graph for this task.",
    )]


def _all_templates() -> dict[str, Any]:
    from builder.templates import all_templates

    return all_templates()


@register_check("init_from")
def _init_from_model(recipe: Recipe) -> list[Problem]:
    """``train.init_from`` names a model that exists and fits the recipe's model (see ``builder.recipe.init_from``)."""
    from builder.recipe.init_from import init_from_problems

    return init_from_problems(recipe)


def _backbone_sources(model_section: dict[str, Any]) -> list[str]:
    """The ``from:`` files of the backbones in a model section (a template's ``backbone:`` or graph nodes)."""
    params = model_section.get("params") or {}
    backbones = [params.get("backbone")] + [(node.get("params") or {}) for node in model_section.get("graph") or []
                                            if isinstance(node, dict) and node.get("block") == "backbone"]
    return [str(b.get("from") or b.get("from_")) for b in backbones if isinstance(b, dict)
            and (b.get("from") or b.get("from_"))]


@register_check("pretrain_used")
def _pretrained_encoder_is_used(recipe: Recipe) -> list[Problem]:
    """A ``pretrain:`` section makes an encoder file; the model must start from it (``backbone: {from: OUT}``)."""
    if recipe.pretrain is None:
        return []
    from pathlib import Path

    from builder.pretrain.paths import encoder_path

    out = encoder_path(recipe.pretrain.out, recipe.base_dir)
    sources = _backbone_sources(recipe.model.model_dump(by_alias=True))
    if any(encoder_path(source, recipe.base_dir) == out for source in sources):
        return []
    shown = Path(recipe.pretrain.out).with_suffix(".keras").as_posix()
    return [Problem("pretrain.out", "The model does not start from the encoder that pretrain: makes.",
                    f"Set the model's backbone to start from it: model.params.backbone: {{from: {shown}}} (or a "
                    "backbone node's from:), or remove the pretrain: section.", key="pretrain.out",
                    expected=f"a backbone with from: {shown}",
                    received=", ".join(sources) if sources else "no backbone with from:")]

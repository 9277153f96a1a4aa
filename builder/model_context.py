"""The one :class:`~builder.blocks.context.ModelContext` of a recipe, for the compiler, the CLI and the GUI editor.

:func:`model_context` reads a validated :class:`~builder.recipe.schema.Recipe`; :func:`context_from_data` reads
a recipe that is still being edited (a plain dict that may have errors): every value it needs is checked
against its schema field (the field's default when missing or invalid) and then goes through
:func:`model_context` too, so the editor sees the same task, input shape, classes and ``instance_target`` as
``cellwright build``. No TensorFlow is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from builder.blocks.context import ModelContext

if TYPE_CHECKING:  # pragma: no cover
    from builder.recipe.schema import Recipe


def model_context(
    recipe: Recipe,
    input_shape: tuple | None = None,
    *,
    n_classes: int | None = None,
    n_outputs: int | None = None,
    base_dir: str | Path | None = None,
) -> ModelContext:
    """Task, input shape ``(H, W, C)`` and output counts of ``recipe``'s model.

    Parameters
    ----------
    recipe : Recipe
        The validated recipe.
    input_shape : tuple, optional
        ``(H, W, C)``; by default the task's fixed input size (classifiers: ``preprocess.image_size``) or the
        patch size, and the number of ``data.channels`` (1 when not given).
    n_classes : int, optional
        Overrides the class count (default: ``len(data.classes)``, or 2).
    n_outputs : int, optional
        Output channels of image-to-image models (default: the input channels).
    base_dir : str or Path, optional
        Folder for relative paths (default: the folder of the recipe file).
    """
    from builder.tasks import get_task

    task = get_task(recipe.task)
    channels = len(recipe.data.channels) if recipe.data.channels else 1
    if input_shape is None:
        size = task.fixed_input_size(recipe) or recipe.preprocess.patch.size
        input_shape = (size, size, channels)
    source = getattr(recipe, "_source_path", None)
    if base_dir is None and source:
        base_dir = Path(source).parent
    return ModelContext(
        task=recipe.task,
        input_shape=tuple(input_shape),
        n_classes=n_classes or (len(recipe.data.classes) if recipe.data.classes else 2),
        n_outputs=n_outputs or int(input_shape[-1]),
        instance_target=recipe.train.instance_target,
        fixed_size=task.whole_image_input,
        base_dir=str(base_dir) if base_dir else None,
    )


def context_from_data(data: dict[str, Any], base_dir: str | Path | None = None) -> ModelContext:
    """Context of a recipe given as a dict that may be incomplete or invalid (the GUI editor's document).

    Parameters
    ----------
    data : dict
        The recipe's top-level mapping.
    base_dir : str or Path, optional
        Folder of the recipe file (relative backbone paths are read from it).
    """
    from builder.recipe.schema import Recipe
    from builder.recipe.sections.data import DataSection
    from builder.recipe.sections.preprocess import Patches, PreprocessSection
    from builder.recipe.sections.train import TrainSection
    from builder.tasks import DEFAULT_TASK

    data = data if isinstance(data, dict) else {}
    pre, section = _section(data, "preprocess"), _section(data, "data")
    recipe = Recipe.model_construct(  # only the values the context reads, each checked against its field
        task=_value(Recipe, "task", data, DEFAULT_TASK),
        data=DataSection.model_construct(channels=_value(DataSection, "channels", section),
                                         classes=_value(DataSection, "classes", section)),
        preprocess=PreprocessSection.model_construct(
            image_size=_value(PreprocessSection, "image_size", pre),
            patch=Patches.model_construct(size=_value(Patches, "size", _section(pre, "patch"))),
        ),
        train=TrainSection.model_construct(instance_target=_value(TrainSection, "instance_target",
                                                                  _section(data, "train"))),
    )
    return model_context(recipe, base_dir=base_dir)


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _value(model: type[BaseModel], name: str, section: dict[str, Any], fallback: Any = None) -> Any:
    """``section[name]`` checked against ``model``'s field; the field default when missing or invalid."""
    info = model.model_fields[name]
    default = fallback if info.is_required() else info.get_default(call_default_factory=True)
    if name not in section:
        return default
    kind: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    try:
        return TypeAdapter(kind).validate_python(section[name])
    except ValidationError:
        return default

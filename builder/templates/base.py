"""Base of architecture templates: a typed parameter model and an ``expand`` into graph nodes."""

from __future__ import annotations

from typing import Any, ClassVar

from builder.blocks.context import ModelContext
from builder.errors import GraphError
from builder.fields import Section

_TEMPLATES: dict[str, type[Template]] = {}



class Template:
    """An architecture with parameters that expands into an explicit graph (which the GUI shows and edits)."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[Section]] = Section
    #: Network outputs the template can end in (``Task.output`` values, e.g. "pixel_classes").
    outputs: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def supports(cls, task: Any) -> bool:
        """True when the template makes models for ``task`` (a Task or a task name)."""
        from builder.tasks import get_task

        spec = get_task(task) if isinstance(task, str) else task
        return spec.trainable and spec.output in cls.outputs

    @classmethod
    def tasks(cls) -> list[str]:
        """Names of the registered tasks the template makes models for."""
        from builder.tasks import all_tasks

        return [name for name, task in all_tasks().items() if cls.supports(task)]

    @classmethod
    def params(cls, params: Section | dict[str, Any] | None) -> Any:
        if isinstance(params, cls.Params):
            return params
        return cls.Params.model_validate(params or {})

    @classmethod
    def downsampling_factor(cls, params: Section | dict[str, Any] | None) -> int:
        """Factor by which the network shrinks its input (input sizes must be multiples of it)."""
        raise NotImplementedError

    @classmethod
    def expand(cls, params: Section | dict[str, Any] | None, ctx: ModelContext) -> list[dict[str, Any]]:
        """The template as graph nodes ``{id, block, params, inputs}`` for the context's task."""
        raise NotImplementedError

    @classmethod
    def check_task(cls, ctx: ModelContext) -> None:
        if not cls.supports(ctx.task):
            raise GraphError(
                "model.template",
                f"template '{cls.name}' does not support the task '{ctx.task}'; it supports "
                f"{', '.join(cls.tasks())}.",
                "choose a template for this task (see `cellwright templates`)",
            )

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "name": cls.name, "summary": cls.summary(), "doc": (cls.__doc__ or "").strip(), "tasks": cls.tasks(),
            "params_schema": cls.Params.model_json_schema(),
        }


def register_template(name: str):
    """Class decorator adding a template to the registry."""

    def decorate(cls: type[Template]) -> type[Template]:
        if name in _TEMPLATES and _TEMPLATES[name] is not cls:
            raise ValueError(f"Template name '{name}' is registered twice.")
        if not cls.__doc__ or not cls.outputs:
            raise ValueError(f"Template '{name}' needs a docstring and at least one output kind.")
        cls.name = name
        _TEMPLATES[name] = cls
        return cls

    return decorate


class GraphWriter:
    """Collects nodes while a template expands; ``add`` returns the node id for chaining."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []

    def add(self, node_id: str, block: str, inputs: list[str] | tuple[str, ...] = (), **params: Any) -> str:
        self.nodes.append({
            "id": node_id, "block": block, "params": {k: v for k, v in params.items() if v is not None},
            "inputs": list(inputs),
        })
        return node_id

    def head(self, ctx: ModelContext, source: str, node_id: str = "head", **params: Any) -> str:
        from builder.tasks import get_task

        return self.add(node_id, get_task(ctx.task).head_block, [source], **params)


def backbone_params(backbone: Any) -> dict[str, Any]:
    """Backbone parameters as a plain dict for a graph node (defaults left out)."""
    return backbone.model_dump(exclude_defaults=False, mode="json")

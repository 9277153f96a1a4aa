"""What the editor knows about blocks and templates, read from the registries (no Qt, no TensorFlow).

The registries (:mod:`builder.blocks.registry`, :mod:`builder.templates`) are the single source; this
module only turns their classes into small records the palette, the ports and the inspector use.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class PortInfo:
    """One input or output of a block: a name and a tensor kind ("image" or "vector")."""

    name: str
    kind: str
    variadic: bool = False


@dataclass(frozen=True)
class BlockInfo:
    """A block type as the editor shows it."""

    name: str
    category: str
    doc: str
    inputs: tuple[PortInfo, ...]
    outputs: tuple[PortInfo, ...]
    params_model: Any = None
    cls: Any = field(default=None, compare=False, repr=False)

    @property
    def summary(self) -> str:
        """First line of the docstring (the palette tooltip title)."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name

    @property
    def variadic(self) -> bool:
        """``True`` when the (single) input takes any number of tensors (Add, Concatenate)."""
        return any(port.variadic for port in self.inputs)

    def params_schema(self) -> dict[str, Any]:
        """JSON Schema of the block's parameters (empty when it has none)."""
        if self.params_model is None:
            return {"type": "object", "properties": {}}
        return self.params_model.model_json_schema()


@dataclass(frozen=True)
class TemplateInfo:
    """An architecture template: expands into a graph of blocks."""

    name: str
    doc: str
    tasks: tuple[str, ...]
    params_model: Any = None
    cls: Any = field(default=None, compare=False, repr=False)

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name


def _ports(cls: Any, attr: str) -> tuple[PortInfo, ...]:
    ports = []
    class_variadic = bool(getattr(cls, "variadic", False))
    for port in getattr(cls, attr, ()) or ():
        name = getattr(port, "name", None) or (port[0] if isinstance(port, tuple) else str(port))
        kind = getattr(port, "kind", None) or (port[1] if isinstance(port, tuple) and len(port) > 1 else "image")
        variadic = bool(getattr(port, "variadic", False)) or (class_variadic and attr == "inputs")
        ports.append(PortInfo(str(name), str(kind), variadic))
    return tuple(ports)


def block_info(cls: Any) -> BlockInfo:
    """Turn a registered block class into a :class:`BlockInfo`."""
    return BlockInfo(
        name=str(cls.name),
        category=str(getattr(cls, "category", "Other") or "Other"),
        doc=inspect.getdoc(cls) or "",
        inputs=_ports(cls, "inputs"),
        outputs=_ports(cls, "outputs") or (PortInfo("output", "image"),),
        params_model=getattr(cls, "Params", None),
        cls=cls,
    )


@lru_cache(maxsize=1)
def load_blocks() -> dict[str, BlockInfo]:
    """All registered blocks by name (empty when the registry is not installed)."""
    try:
        from builder.blocks.registry import all_blocks

        classes = all_blocks()
    except ImportError:
        try:  # some block modules missing: use those that did register
            from builder.blocks.registry import _BLOCKS as classes  # type: ignore[attr-defined]  # noqa: N811
        except ImportError:
            return {}
    return {name: block_info(cls) for name, cls in sorted(classes.items())}


@lru_cache(maxsize=1)
def load_templates() -> dict[str, TemplateInfo]:
    """All registered templates by name (empty when none are installed)."""
    try:
        from builder.templates import all_templates

        classes = all_templates()
    except ImportError:
        return {}
    result = {}
    for name, cls in sorted(classes.items()):
        result[name] = TemplateInfo(
            name=str(name), doc=inspect.getdoc(cls) or "", tasks=tuple(cls.tasks()),
            params_model=getattr(cls, "Params", None), cls=cls,
        )
    return result


def expand_template(name: str, params: dict[str, Any], recipe: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Expand template ``name`` with ``params`` into graph nodes ``{id, block, params, inputs}``.

    Raises
    ------
    builder.errors.GraphError
        When the template is unknown or its parameters are invalid.
    """
    from builder.errors import GraphError

    templates = load_templates()
    if name not in templates:
        raise GraphError(f"model.template={name!r}", f"There is no template called {name!r}.",
                         f"Pick one of: {', '.join(templates) or '(none installed)'}.")
    info = templates[name]
    model = info.params_model.model_validate(params or {}) if info.params_model is not None else params
    ctx = _template_context(recipe or {})
    nodes = info.cls().expand(model, ctx) if _needs_instance(info.cls) else info.cls.expand(model, ctx)
    return [dict(node) for node in nodes]


def _needs_instance(cls: Any) -> bool:
    method = inspect.getattr_static(cls, "expand", None)
    return not isinstance(method, (staticmethod, classmethod))


def _template_context(recipe: dict[str, Any]) -> Any:
    """Model context (task, input shape, classes) for template expansion, without the compiler (no Keras)."""
    from builder.model_context import context_from_data

    return context_from_data(recipe)

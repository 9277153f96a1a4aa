"""Architecture templates: each expands into an explicit graph of blocks (see :mod:`builder.templates.base`)."""

from __future__ import annotations

import importlib

from builder.errors import GraphError
from builder.templates.base import _TEMPLATES, Template, register_template

TEMPLATE_MODULES = (
    "builder.templates.unet",
    "builder.templates.fpn",
    "builder.templates.classifier",
    "builder.templates.restoration",
)

__all__ = ["Template", "all_templates", "get_template", "register_template"]


def all_templates() -> dict[str, type[Template]]:
    """All registered templates by name."""
    for module in TEMPLATE_MODULES:
        importlib.import_module(module)
    return dict(_TEMPLATES)


def get_template(name: str | None) -> type[Template]:
    """The template called ``name``; raises :class:`GraphError` listing the valid names otherwise."""
    from builder.blocks.registry import unknown_name_message

    templates = all_templates()
    if name in templates:
        return templates[name]
    raise GraphError("model.template", unknown_name_message("template", str(name), templates),
                     "see `cellwright templates`")

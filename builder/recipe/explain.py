"""Write a recipe with every default filled in, each key followed by its help text."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from builder.recipe.schema import Recipe


def explain_recipe(recipe: Recipe, *, comments: bool = True) -> str:
    """Return YAML of ``recipe`` with all defaults filled in.

    Keys the user did not write are marked ``(default)``; with ``comments`` each key carries its help text.
    """
    lines: list[str] = []
    _emit_model(recipe, 0, lines, comments, user_set=True)
    return "\n".join(lines) + "\n"


def _emit_model(model: BaseModel, indent: int, lines: list[str], comments: bool, user_set: bool) -> None:
    pad = "  " * indent
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        is_default = not user_set or name not in model.model_fields_set
        note = (info.description or "").strip()
        if is_default:
            note = f"(default) {note}".strip()
        comment = f"  # {note}" if comments and note else ""
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:{comment}")
            _emit_model(value, indent + 1, lines, comments, user_set=not is_default)
        elif isinstance(value, (dict, list)) and value:
            lines.append(f"{pad}{name}:{comment}")
            plain = _plain(value)
            block = yaml.safe_dump(plain, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
            lines.extend(f"{pad}  {line}" for line in block.rstrip("\n").splitlines())
        else:
            lines.append(f"{pad}{name}: {_scalar(_plain(value))}{comment}")


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()

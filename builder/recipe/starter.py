"""Commented starter recipes (``cellwright new``), read from the shipped ``recipes/templates``."""

from __future__ import annotations

from builder.errors import CellwrightError
from builder.recipe.schema import TASKS


def starter_recipe(task: str, *, name: str | None = None, schema_ref: bool = True) -> str:
    """Return the text of the commented starter recipe for ``task``."""
    import recipes

    if task not in TASKS:
        raise CellwrightError("--task", f"Unknown task {task!r}.", f"Use one of: {', '.join(TASKS)}.")
    text = (recipes.TEMPLATES / f"{task}.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    if lines and lines[0].startswith("# yaml-language-server"):
        lines = lines[1:]
    if schema_ref:
        lines.insert(0, f"# yaml-language-server: $schema={recipes.SCHEMA.resolve().as_uri()}")
    text = "\n".join(lines) + "\n"
    if name:
        text = text.replace(f"name: my-{task.replace('_', '-')}", f"name: {name}", 1)
    return text

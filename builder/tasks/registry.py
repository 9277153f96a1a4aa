"""Task registry: one :class:`~builder.tasks.base.Task` per recipe ``task:``.

Task modules are the modules of this package that register a task (``@register_task``); they are found and
imported on first use, so adding a task is adding one module. Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from pathlib import Path

from builder.errors import CellwrightError
from builder.tasks.base import _REGISTRY, Task

#: A new recipe (and the GUI's "New recipe") starts with this task.
DEFAULT_TASK = "segmentation"

_MARKER = "@register_task"
_loaded = False


def _load_task_modules() -> None:
    """Import every module of ``builder.tasks`` that registers a task (read as text first: cheap and exact)."""
    global _loaded
    if _loaded:
        return
    package = Path(__file__).parent
    for info in pkgutil.iter_modules([str(package)]):
        path = package / f"{info.name}.py"
        if info.ispkg or info.name.startswith("_") or info.name in ("base", "registry") or not path.is_file():
            continue
        if _MARKER in path.read_text(encoding="utf-8"):
            importlib.import_module(f"builder.tasks.{info.name}")
    _loaded = True


def all_tasks() -> dict[str, Task]:
    """Every registered task by name, in the order of :data:`TASK_ORDER` then alphabetically."""
    _load_task_modules()
    order = {name: i for i, name in enumerate(TASK_ORDER)}
    return {name: _REGISTRY[name] for name in sorted(_REGISTRY, key=lambda n: (order.get(n, len(order)), n))}


def task_names() -> list[str]:
    """Names of every registered task (the recipe's ``task:`` choices)."""
    return list(all_tasks())


def get_task(name: str) -> Task:
    """The :class:`Task` for a recipe ``task:`` value; unknown names raise with a did-you-mean hint."""
    tasks = all_tasks()
    if name in tasks:
        return tasks[name]
    close = difflib.get_close_matches(str(name), list(tasks), n=1)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    raise CellwrightError("task", f"Unknown task {name!r}. Expected one of: {', '.join(tasks)}.",
                          f"{hint}Set `task:` in the recipe to one of the listed tasks.")


def task_for_layout(layout: str, learns_from: str | None = None) -> str | None:
    """The first task (in display order) that accepts ``layout`` (and learns from ``learns_from``)."""
    for name, task in all_tasks().items():
        if layout in task.layouts and (learns_from is None or task.learns_from == learns_from):
            return name
    return None


#: Display order of the built-in tasks (menus, wizard cards, `cellwright new`); others follow alphabetically.
TASK_ORDER = ("classification", "segmentation", "instance_segmentation", "image_to_image", "tracking")

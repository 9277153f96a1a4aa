"""Reading, checking and writing recipe text for the GUI (no Qt here, so it is testable on its own).

The GUI keeps the recipe as a plain mapping in file order (what the user wrote, nothing filled in) and
validates it with :mod:`builder.recipe` after every change. Saving writes that mapping as a normal recipe
file, atomically, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from builder.errors import Problem
from builder.tasks import get_task


def new_recipe(task: str, name: str = "my-experiment", data_root: str = "data") -> dict[str, Any]:
    """Return a small, valid starting recipe for ``task`` as a mapping in the order the file uses."""
    spec = get_task(task)
    return {
        "cellwright": 1,
        "name": name,
        "description": "",
        "task": task,
        "data": spec.new_recipe_data(data_root),
        "model": {"template": spec.default_template},
        "train": {"epochs": 50, "batch_size": 8},
    }


class _Dumper(yaml.SafeDumper):
    """Block-style mappings (one key per line); lists of plain values on one line: ``inputs: [enc, up]``."""


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    flow = all(isinstance(item, (str, int, float, bool)) or item is None for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def dump_text(data: dict[str, Any]) -> str:
    """Write ``data`` as recipe YAML, keeping the key order."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def parse_text(text: str, source: str = "recipe") -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse and validate recipe ``text``.

    Returns
    -------
    data : dict or None
        The mapping as written (``None`` when the text is not YAML or not a mapping).
    problems : list of Problem
        Located findings; empty when the recipe is valid.
    """
    try:
        from builder.recipe.yaml_io import parse_yaml

        located = parse_yaml(text, source)
        if located.problems:
            return None, list(located.problems)
        data = located.data
    except ImportError:  # pragma: no cover - the lead's loader is always there in a full install
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            return None, [Problem(where=source, what=f"The text is not valid YAML: {error}")]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem(where=source, what="A recipe must be a list of 'key: value' lines at the top level.",
                              fix="Start with 'name: my-experiment' and 'task: segmentation'.")]
    return data, validate_data(data, source, text)


def validate_data(data: dict[str, Any], source: str = "recipe", text: str | None = None) -> list[Problem]:
    """Validate a recipe mapping; returns the problems (empty list when valid)."""
    try:
        from builder.recipe.load import validate_text  # type: ignore[import-not-found]
    except ImportError:
        validate_text = None
    if validate_text is not None:
        try:
            _recipe, problems = validate_text(text if text is not None else dump_text(data), source)
            return list(problems)
        except Exception as error:
            return [Problem(where=source, what=f"The recipe checker failed: {error}", severity="warning")]
    return _validate_with_pydantic(data, source)


def _validate_with_pydantic(data: dict[str, Any], source: str) -> list[Problem]:
    from pydantic import ValidationError

    from builder.recipe.schema import Recipe

    try:
        Recipe.model_validate(copy.deepcopy(data))
    except ValidationError as error:
        problems = []
        for item in error.errors():
            key = ".".join(str(part) for part in item["loc"])
            problems.append(Problem(where=f"{source} {key}" if key else source, what=item["msg"], key=key))
        return problems
    return []


def atomic_write(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, target)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise
    return target


def autosave_path(path: str | os.PathLike[str] | None) -> Path:
    """Side file that holds unsaved work for ``path`` (or for an untitled recipe)."""
    if path is None:
        base = Path.home() / ".cellwright" / "autosave"
        return base / "untitled.recipe.yaml"
    target = Path(path)
    return target.with_name(f".{target.name}.autosave")


def get_path(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """Value at ``keys`` inside nested mappings, or ``None`` when a key is missing."""
    value: Any = data
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def set_path(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    """Return a copy of ``data`` with ``keys`` set to ``value`` (``None`` removes the key)."""
    result = copy.deepcopy(data)
    node = result
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return result

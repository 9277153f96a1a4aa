"""Every number in the recipe JSON Schema has bounds, and values outside them are refused with a located message.

The sweep walks the schema from the top (sections, template parameters, every block's parameters in a
graph node, list items), writes 0, a negative and two huge values into a real recipe at that place and
validates it. Values inside the schema's bounds may be accepted (e.g. ``dropout: 0``) or refused for a
cross-field reason; values outside must be refused with an error at that key, with a line and column.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

import recipes
from builder.recipe import validate_text
from builder.recipe.json_schema import recipe_json_schema
from builder.recipe.load import dump_yaml
from builder.templates import all_templates

SCHEMA = recipe_json_schema()
DEFS = SCHEMA["$defs"]
BASE = yaml.safe_load((recipes.EXAMPLES / "nuclei_semantic.yaml").read_text())
VALUES = (0, -1, -0.5, 10**12, 2**63)
TEMPLATE_OF_PARAMS = {template.Params.__name__: name for name, template in all_templates().items()}

Path = tuple[Any, ...]


def _resolve(schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return name, DEFS[name]
    return None, schema


def numeric_fields(schema: dict[str, Any], path: Path, setup: dict[Path, Any],
                   owner: str = "Recipe") -> Iterator[tuple[Path, dict[Path, Any], dict[str, Any], str]]:
    """Yield (key path, values to set first, number schema, 'Owner.field') for every number below ``schema``."""
    name, schema = _resolve(schema)
    owner = name or owner
    if schema.get("type") in ("integer", "number"):
        key = path[-2] if isinstance(path[-1], int) else path[-1]  # a list item is named after its list
        yield path, setup, schema, f"{owner}.{key}"
        return
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        alt_name, alt = _resolve(alternative)
        extra = dict(setup)
        if alt_name in TEMPLATE_OF_PARAMS:
            extra[("model", "template")] = TEMPLATE_OF_PARAMS[alt_name]
        block = alt.get("properties", {}).get("block", {}).get("const")
        if block is not None:
            extra[(*path, "id")] = "n1"
            extra[(*path, "block")] = block
        yield from numeric_fields(alternative, path, extra, owner)
    if "items" in schema:
        yield from numeric_fields(schema["items"], (*path, 0), setup, owner)
    for key, prop in schema.get("properties", {}).items():
        yield from numeric_fields(prop, (*path, key), setup, owner)


FIELDS = [f for f in numeric_fields(SCHEMA, (), {}) if "const" not in f[2]]


def _set(data: Any, path: Path, value: Any) -> None:
    for part, following in zip(path[:-1], path[1:], strict=True):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(data, list):
            while len(data) <= part:
                data.append(copy.deepcopy(empty))
            data = data[part]
        else:
            if not isinstance(data.get(part), (dict, list)):
                data[part] = empty
            data = data[part]
    if isinstance(data, list):
        while len(data) <= path[-1]:
            data.append(None)
    data[path[-1]] = value


def recipe_with(path: Path, setup: dict[Path, Any], value: Any) -> str:
    data = copy.deepcopy(BASE)
    if path[:2] == ("model", "graph"):
        data["model"] = {"graph": []}
    elif path[:2] == ("model", "params"):
        data["model"] = {"params": {}}
    for key, preset in setup.items():
        _set(data, key, preset)
    _set(data, path, value)
    return dump_yaml(data)


def inside(schema: dict[str, Any], value: float) -> bool:
    return (
        value >= schema.get("minimum", value) and value <= schema.get("maximum", value)
        and value > schema.get("exclusiveMinimum", value - 1) and value < schema.get("exclusiveMaximum", value + 1)
    )


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def test_the_sweep_reaches_every_number_of_the_schema():
    reached = {label for _, _, _, label in FIELDS}
    declared = set()
    for owner, definition in DEFS.items():
        for key, prop in definition.get("properties", {}).items():
            options = [prop, prop.get("items", {})] + prop.get("anyOf", []) + [
                alt.get("items", {}) for alt in prop.get("anyOf", [])]
            if any(o.get("type") in ("integer", "number") and "const" not in o for o in options):
                declared.add(f"{owner}.{key}")
    assert declared <= reached, sorted(declared - reached)
    assert len(reached) > 100


@pytest.mark.parametrize("field", FIELDS, ids=[label for *_, label in FIELDS])
def test_every_number_has_a_lower_and_an_upper_bound(field):
    _, _, schema, label = field
    assert "minimum" in schema or "exclusiveMinimum" in schema, f"{label} has no lower bound: {schema}"
    assert "maximum" in schema or "exclusiveMaximum" in schema, f"{label} has no upper bound: {schema}"
    if schema["type"] == "integer":  # the GUI edits whole numbers in Qt spin boxes, which hold 32-bit integers
        assert schema.get("minimum", schema.get("exclusiveMinimum", 0)) >= -(2**31), label
        assert schema.get("maximum", schema.get("exclusiveMaximum", 0)) <= 2**31 - 1, label


@pytest.mark.parametrize("field", FIELDS, ids=[label for *_, label in FIELDS])
def test_zero_negative_and_huge_values_are_accepted_or_refused_with_a_location(field):
    path, setup, schema, label = field
    for value in VALUES:
        if schema["type"] == "integer" and isinstance(value, float):
            continue
        text = recipe_with(path, setup, value)
        recipe, problems = validate_text(text, "sweep.yaml")
        errors = [p for p in problems if p.severity == "error"]
        for problem in errors:
            assert problem.where.startswith("sweep.yaml"), problem.format()
            assert "Traceback" not in problem.what
        if inside(schema, value):
            assert recipe is not None or errors
            continue
        here = [p for p in errors if p.key == dotted(path)]
        assert recipe is None and here, f"{label}={value} was not refused at {dotted(path)}:\n{text}\n" + "\n".join(
            p.format() for p in problems)
        assert here[0].line is not None and f"sweep.yaml:{here[0].line}:" in here[0].where, here[0].format()
        assert "Expected" in here[0].what and "Use a value" in here[0].fix, here[0].format()

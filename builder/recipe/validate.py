"""Turn pydantic validation errors into located, plain-English problems."""

from __future__ import annotations

import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from builder.errors import Problem
from builder.recipe.suggest import closest, did_you_mean
from builder.recipe.yaml_io import KeyPath, LocatedYaml

_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "list": "a list (lines starting with '- ')",
    "dict": "a mapping (indented 'key: value' lines)",
    "model": "a mapping (indented 'key: value' lines)",
    "none": "nothing (null)",
}


def problems_from_validation_error(
    error: ValidationError, located: LocatedYaml, root_model: type[BaseModel], source: str
) -> list[Problem]:
    """Convert every error of ``error`` into a :class:`Problem`, grouping union alternatives."""
    grouped: dict[KeyPath, list[dict[str, Any]]] = {}
    for item in _fitting_union_branches([dict(e) for e in error.errors(include_url=False)]):
        path = _clean_path(item["loc"], located.data)
        grouped.setdefault(path, []).append(item)
    problems = []
    for path, items in grouped.items():
        problems.append(_problem_for(path, items, located, root_model, source))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def _fitting_union_branches(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep only the errors of the union alternative the data was meant for.

    When a value may be one of several mappings (e.g. ``freeze: {until_epoch: 5}`` or ``{up_to: LAYER}``),
    pydantic reports every alternative, tagged with its class name in the error location. The alternative
    whose errors are only about values (no missing or unknown keys) is the one the user wrote; the errors
    of the others would only confuse ("the required key `up_to` is missing").
    """
    branches: dict[tuple[Any, ...], dict[str, list[int]]] = {}
    for index, item in enumerate(items):
        loc = item["loc"]
        for depth, part in enumerate(loc):
            if _is_model_tag(part):
                branches.setdefault(loc[:depth], {}).setdefault(part, []).append(index)
                break
    dropped: set[int] = set()
    for prefix, by_tag in branches.items():
        fitting = [tag for tag, indexes in by_tag.items()
                   if all(items[i]["type"] not in ("missing", "extra_forbidden") for i in indexes)]
        if len(fitting) != 1:
            continue
        keep = set(by_tag[fitting[0]])
        dropped.update(i for i, item in enumerate(items)
                       if i not in keep and len(item["loc"]) > len(prefix)
                       and tuple(item["loc"][: len(prefix)]) == prefix)
    return [item for i, item in enumerate(items) if i not in dropped]


def _is_model_tag(part: Any) -> bool:
    """Recipe keys are lower case; a capitalised location part is the class name of a union alternative."""
    return isinstance(part, str) and part[:1].isupper() and part.isidentifier()


def _clean_path(loc: tuple[Any, ...], data: Any) -> KeyPath:
    """Drop loc parts that are union tags or type names rather than keys in the data."""
    path: list[Any] = []
    node = data
    for part in loc:
        if _has_part(node, part):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and _looks_like_key(part):
            path.append(part)  # a missing or unknown key
            node = None
        else:
            continue
    return tuple(path)


def _has_part(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _looks_like_key(part: str) -> bool:
    return (not any(ch in part for ch in "[]()") and part not in _TYPE_WORDS and not part.startswith("function-")
            and not _is_model_tag(part))


def _problem_for(
    path: KeyPath, items: list[dict[str, Any]], located: LocatedYaml, root: type[BaseModel], source: str
) -> Problem:
    dotted = _dotted(path)
    position = located.position(path)
    line, col = position if position else (None, None)
    shown = shorten(dotted)
    where = f"{source}:{line}:{col} {shown}" if line else f"{source} {shown}"
    received = _Shown(_value_at(located.data, path))
    first = items[0]
    kind = first["type"]
    name = _name_of(path)
    default = _default_at(root, path, located.data)

    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, path[:-1], located.data)
        hint = did_you_mean(name, allowed)
        what = f"Unknown key `{name}`.{hint}"
        parent = shorten(_dotted(path[:-1])) or "the top level of the recipe"
        fix = f"Keys allowed under {parent}: {', '.join(allowed)}." if allowed else "Remove this key."
    elif kind == "missing":
        what = f"The required key `{name}` is missing."
        parent = shorten(_dotted(path[:-1])) or "the top level"
        fix = f"Add `{name}: ...` under {parent}" + (f" (for example `{name}: {default}`)." if default else ".")
    elif kind == "union_tag_invalid":
        ctx = first.get("ctx", {})
        tag = ctx.get("tag")
        expected = [t.strip(" '\"") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        what = f"Unknown {ctx.get('discriminator', 'type').strip(chr(39))} `{tag}`.{did_you_mean(tag, expected)}"
        fix = f"Use one of: {', '.join(expected)}."
    elif all(i["type"] == "literal_error" for i in items) or kind == "enum":
        expected = _expected_literals(items)
        what = (
            f"Expected one of {', '.join(expected)}. Received: {name}={received!r}."
            f"{did_you_mean(received.value, expected)}"
        )
        example = closest(received.value, expected) or (expected[0] if expected else None)
        fix = f"Write one of the allowed values, e.g. `{name}: {example}`." if example else "Use an allowed value."
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = _range_text(root, path, located.data) or _bound_text(items)
        what = f"Expected a number {bound}. Received: {name}={received!r}."
        fix = f"Use a value {bound}" + (f" (the default is {default})." if default is not None else ".")
    elif kind == "finite_number":
        what = f"Expected a finite number. Received: {name}={received!r}."
        fix = "Write an ordinary number here" + (f" (the default is {default})." if default is not None else ".")
    elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        what = f"{first['msg']}. Received: {name}={received!r}."
        fix = "Change the length of this value."
    elif kind == "value_error" or kind == "assertion_error":
        message = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        head = message.split(";", 1)[0].strip()
        what = head[0].upper() + head[1:] + ("" if head.endswith(".") else ".")
        fix = _fix_from_message(message)
    else:
        expected_types = _expected_types(items)
        what = f"Expected {expected_types}. Received: {name}={received!r}."
        fix = f"Write {expected_types} here" + (f", e.g. `{name}: {default}`." if default not in (None, "") else ".")
    return Problem(where=where, what=what, fix=fix, key=dotted, line=line, column=col)


class _Shown:
    """A received value whose ``repr`` is cut to a readable length (a huge value must not flood the message)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return shorten(repr(self.value))


def shorten(text: str, limit: int = 80) -> str:
    """Return ``text``, or its start and its length when it is longer than ``limit`` characters."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}... ({len(text)} characters)"


def _fix_from_message(message: str) -> str:
    if ";" in message:
        tail = message.split(";", 1)[1].strip()
        return tail[0].upper() + tail[1:] + ("" if tail.endswith(".") else ".")
    return "Change the values named above so that they agree."


def _expected_literals(items: list[dict[str, Any]]) -> list[str]:
    values: list[str] = []
    for item in items:
        expected = str(item.get("ctx", {}).get("expected", ""))
        for part in expected.replace(" or ", ",").split(","):
            part = part.strip().strip("'\"")
            if part and part not in values:
                values.append(part)
    return values


def _expected_types(items: list[dict[str, Any]]) -> str:
    words: list[str] = []
    for item in items:
        if item["type"] == "literal_error":
            words.extend(f"'{v}'" for v in _expected_literals([item]))
            continue
        base = item["type"].split("_")[0]
        word = _TYPE_WORDS.get(base, item["msg"].lower().removeprefix("input should be "))
        if word not in words:
            words.append(word)
    return " or ".join(words) if words else "a different value"


def _bound_text(items: list[dict[str, Any]]) -> str:
    parts = []
    symbols = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
               "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}
    for item in items:
        if item["type"] in symbols:
            symbol, key = symbols[item["type"]]
            parts.append(f"{symbol} {item.get('ctx', {}).get(key)}")
    return " and ".join(parts)


def _name_of(path: KeyPath) -> str:
    """The key named in a message: ``batch_size``, or ``iou_thresholds[1]`` for a list item."""
    if not path:
        return "recipe"
    if isinstance(path[-1], int) and len(path) > 1:
        return shorten(f"{path[-2]}[{path[-1]}]")
    return shorten(str(path[-1]))


def _range_text(root: type[BaseModel], path: KeyPath, data: Any) -> str:
    """The whole allowed range of the number at ``path``, e.g. ``from 1 to 4096`` (empty when unknown)."""
    item = bool(path) and isinstance(path[-1], int)
    field_path = path[:-1] if item else path
    if not field_path or isinstance(field_path[-1], int):
        return ""
    model = model_at(root, field_path[:-1], data)
    if model is None or field_path[-1] not in model.model_fields:
        return ""
    info = model.model_fields[field_path[-1]]
    bounds = {} if item else _bounds_in(info.metadata)
    bounds.update(_annotated_bounds(info.annotation, inside_list=item))
    low = (f">= {bounds['ge']}" if "ge" in bounds else f"> {bounds['gt']}" if "gt" in bounds else "")
    high = (f"<= {bounds['le']}" if "le" in bounds else f"< {bounds['lt']}" if "lt" in bounds else "")
    return " and ".join(part for part in (low, high) if part)


def _annotated_bounds(annotation: Any, inside_list: bool) -> dict[str, Any]:
    """Bounds declared with ``Annotated[..., Field(ge=...)]`` in a union or (``inside_list``) a list item type."""
    if inside_list and typing.get_origin(annotation) is list:
        return _annotated_bounds(typing.get_args(annotation)[0], inside_list=False)
    found: dict[str, Any] = {}
    for arg in typing.get_args(annotation):
        origin = typing.get_origin(arg)
        if origin is typing.Annotated and not inside_list:
            found.update(_bounds_in(arg.__metadata__))
        elif origin is list and inside_list:
            found.update(_annotated_bounds(arg, inside_list=False))
        elif origin in (Union, types.UnionType):
            found.update(_annotated_bounds(arg, inside_list))
    if typing.get_origin(annotation) is typing.Annotated and not inside_list:
        found.update(_bounds_in(annotation.__metadata__))
    return found


def _bounds_in(metadata: Any) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for entry in metadata:
        for part in getattr(entry, "metadata", [entry]):  # a FieldInfo carries its bounds in .metadata
            for key in ("ge", "gt", "le", "lt"):
                if getattr(part, key, None) is not None:
                    bounds[key] = getattr(part, key)
    return bounds


def _dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _value_at(data: Any, path: KeyPath) -> Any:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


# --- walking the schema to find allowed keys and defaults -------------------------------------------------


def model_at(root: type[BaseModel], path: KeyPath, data: Any) -> type[BaseModel] | None:
    """Return the pydantic model class that describes the mapping at ``path`` (or ``None``)."""
    current: Any = root
    node = data
    for part in path:
        current = _resolve_model(current, node)
        if isinstance(part, int):
            current = _list_item_type(current)
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        current = current.model_fields[part].annotation
        node = node.get(part) if isinstance(node, dict) else None
    resolved = _resolve_model(current, node)
    return resolved if isinstance(resolved, type) and issubclass(resolved, BaseModel) else None


def _resolve_model(annotation: Any, node: Any) -> Any:
    """Unwrap Optional/Union/Annotated to the model that fits ``node`` best."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _resolve_model(typing.get_args(annotation)[0], node)
    if origin in (Union, types.UnionType):
        candidates = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [c for c in (_resolve_model(a, node) for a in candidates)
                  if isinstance(c, type) and issubclass(c, BaseModel)]
        if isinstance(node, dict):
            for model in models:
                if _matches_tag(model, node):
                    return model
        if len(models) == 1:
            return models[0]
        lists = [c for c in candidates if typing.get_origin(c) is list]
        if isinstance(node, list) and lists:
            return lists[0]
        return models[0] if models else annotation
    return annotation


def _matches_tag(model: type[BaseModel], node: dict[str, Any]) -> bool:
    for key, info in model.model_fields.items():
        if typing.get_origin(info.annotation) is typing.Literal and key in node:
            return node[key] in typing.get_args(info.annotation)
    return False


def _list_item_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is list and args:
        return args[0]
    for arg in args:
        if typing.get_origin(arg) is list and typing.get_args(arg):
            return typing.get_args(arg)[0]
    return annotation


def _allowed_keys(root: type[BaseModel], path: KeyPath, data: Any) -> list[str]:
    model = model_at(root, path, data)
    return list(model.model_fields) if model else []


def _default_at(root: type[BaseModel], path: KeyPath, data: Any) -> Any:
    if not path or isinstance(path[-1], int):
        return None
    model = model_at(root, path[:-1], data)
    if model is None or path[-1] not in model.model_fields:
        return None
    info = model.model_fields[path[-1]]
    if info.is_required() or info.default_factory is not None:
        return None
    default = info.default
    return default if isinstance(default, (int, float, str, bool)) else None

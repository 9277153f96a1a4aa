"""Safe YAML reading with line/column positions, and order-preserving YAML writing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from builder.errors import Problem

KeyPath = tuple[Any, ...]


@dataclass
class LocatedYaml:
    """Parsed YAML data plus the position (1-based line, column) of every key and list item."""

    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def position(self, path: KeyPath) -> tuple[int, int] | None:
        """Position of ``path`` or of its nearest ancestor that is in the file."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None
            path = path[:-1]


def parse_yaml(text: str, source: str = "recipe") -> LocatedYaml:
    """Parse ``text`` with the safe loader and record positions.

    Only plain YAML (mappings, lists, strings, numbers, booleans, null) is accepted; Python object tags
    and other unsafe constructs give a located problem instead of running code. Duplicate keys are
    reported (YAML would silently keep the last one).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return LocatedYaml(data=None)
        result = LocatedYaml(data=None)
        _record_positions(node, (), result, source)
        result.data = loader.construct_document(node)
        return result
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem_text = (error.problem or "invalid YAML").strip()
        if isinstance(error, yaml.constructor.ConstructorError):
            what = (
                f"The YAML uses a construct that recipes do not allow ({problem_text}). "
                "Recipes contain only plain values, lists and key: value mappings."
            )
            fix = "Remove the '!!' tag (e.g. '!!python/object') and write the plain value instead."
        else:
            what = f"The file is not valid YAML: {problem_text}"
            if error.context:
                what += f" ({error.context.strip()})"
            fix = (
                "Check the indentation (spaces only, the same number for keys at the same level), "
                "that every 'key: value' has a space after the colon, and that quotes are closed."
            )
        where = f"{source}:{line}:{col}" if line else source
        return LocatedYaml(data=None, problems=[Problem(where=where, what=what, fix=fix, line=line, column=col)])
    except yaml.YAMLError as error:  # pragma: no cover - non-marked errors are rare
        return LocatedYaml(data=None, problems=[Problem(where=source, what=f"The file is not valid YAML: {error}")])
    finally:
        loader.dispose()


def _record_positions(node: yaml.Node, path: KeyPath, out: LocatedYaml, source: str) -> None:
    out.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key in seen:
                dotted = ".".join(str(p) for p in (*path, key))
                out.problems.append(
                    Problem(
                        where=f"{source}:{line}:{col}",
                        what=f"The key `{dotted}` appears twice (first on line {seen[key]}); only one can count.",
                        fix="Delete one of the two entries, or merge their contents.",
                        key=dotted,
                        line=line,
                        column=col,
                    )
                )
            seen[key] = line
            out.positions[(*path, key)] = (line, col)
            _record_positions_value(value_node, (*path, key), out, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_positions(item, (*path, index), out, source)


def _record_positions_value(node: yaml.Node, path: KeyPath, out: LocatedYaml, source: str) -> None:
    key_position = out.positions[path]
    _record_positions(node, path, out, source)
    out.positions[path] = key_position  # errors about a key point at the key, not its value


def dump_yaml(data: Any) -> str:
    """Dump plain data as block-style YAML, keeping the key order of the dictionaries."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def reorder_like(data: Any, reference: Any) -> Any:
    """Return ``data`` with dictionary keys ordered as in ``reference`` (keys it lacks come after)."""
    if isinstance(data, dict):
        ref = reference if isinstance(reference, dict) else {}
        ordered = [k for k in ref if k in data] + [k for k in data if k not in ref]
        return {k: reorder_like(data[k], ref.get(k)) for k in ordered}
    if isinstance(data, list):
        ref_list = reference if isinstance(reference, list) else []
        return [reorder_like(v, ref_list[i] if i < len(ref_list) else None) for i, v in enumerate(data)]
    return data

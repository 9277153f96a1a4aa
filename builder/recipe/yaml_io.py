"""Safe YAML reading with line/column positions, and order-preserving YAML writing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from builder.errors import Problem
from builder.recipe.yaml_limits import MAX_TEXT_CHARS, LimitedLoader, YamlLimitError

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
    reported (YAML would silently keep the last one). Texts that are too large, nested too deeply or
    expand through aliases to too many values are refused with a located problem (see
    :mod:`builder.recipe.yaml_limits`); so are control characters and binary data.
    """
    if len(text) > MAX_TEXT_CHARS:
        return LocatedYaml(data=None, problems=[too_large_problem(source, f"{len(text)} characters")])
    loader = None
    try:
        loader = LimitedLoader(text)
        node = loader.get_single_node()
        if node is None:
            return LocatedYaml(data=None)
        result = LocatedYaml(data=None)
        _record_positions(node, (), result, source)
        result.data = loader.construct_document(node)
        return result
    except YamlLimitError as error:
        line, col = (error.mark.line + 1, error.mark.column + 1) if error.mark else (None, None)
        return LocatedYaml(data=None, problems=[_problem(source, line, col, error.what, error.fix)])
    except yaml.reader.ReaderError as error:
        line, col = _line_column(text, error.position)
        return LocatedYaml(data=None, problems=[_problem(
            source, line, col,
            f"The file holds a character that text files do not contain (#x{_code(error.character)}), "
            "so it is not a recipe (it may be an image or another binary file).",
            "Give the path of the .yaml recipe, or delete this character in a text editor.",
        )])
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return LocatedYaml(data=None, problems=[_syntax_problem(error, source, line, col)])
    except yaml.YAMLError as error:  # pragma: no cover - non-marked errors are rare
        return LocatedYaml(data=None, problems=[Problem(where=source, what=f"The file is not valid YAML: {error}")])
    finally:
        if loader is not None:
            loader.dispose()


def too_large_problem(source: str, size: str) -> Problem:
    """The problem reported for a recipe text or file larger than :data:`MAX_TEXT_CHARS`."""
    return Problem(
        where=source,
        what=f"The recipe is too large to be read ({size}; a recipe holds at most {MAX_TEXT_CHARS} characters, "
             "and real ones a few thousand).",
        fix="Check that this is the recipe file (not an image, a log or a data file); "
            "start a new one with `cellwright new --task segmentation --out recipe.yaml`.",
    )


def _syntax_problem(error: yaml.MarkedYAMLError, source: str, line: int | None, col: int | None) -> Problem:
    problem_text = (error.problem or "invalid YAML").strip()
    if isinstance(error, yaml.constructor.ConstructorError) and "tag" in problem_text:
        what = (
            f"The YAML uses a construct that recipes do not allow ({problem_text}). "
            "Recipes contain only plain values, lists and key: value mappings."
        )
        fix = "Remove the '!!' tag (e.g. '!!python/object') and write the plain value instead."
    elif isinstance(error, yaml.constructor.ConstructorError):
        what = (
            f"The YAML uses a construct that recipes do not allow ({problem_text}). "
            "Recipes contain only plain values, lists and key: value mappings."
        )
        fix = "Use plain words or numbers as keys, and plain values, lists or mappings as values."
    else:
        what = f"The file is not valid YAML: {problem_text}"
        if error.context:
            what += f" ({error.context.strip()})"
        fix = (
            "Check the indentation (spaces only, the same number for keys at the same level), "
            "that every 'key: value' has a space after the colon, and that quotes are closed."
        )
    return _problem(source, line, col, what, fix)


def _problem(source: str, line: int | None, col: int | None, what: str, fix: str) -> Problem:
    where = f"{source}:{line}:{col}" if line else source
    return Problem(where=where, what=what, fix=fix, line=line, column=col)


def _line_column(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    line_start = before.rfind("\n") + 1
    return before.count("\n") + 1, position - line_start + 1


def _code(character: int | bytes) -> str:
    """Hex code of the character PyYAML's reader refused (an int for text input, bytes for byte input)."""
    return f"{character[0] if isinstance(character, bytes) else character:04x}"


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

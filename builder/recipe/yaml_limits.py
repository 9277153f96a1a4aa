"""Limits that keep a hostile or broken recipe file from hanging, crashing or exhausting memory.

A real recipe is a few kilobytes holding a few hundred values nested fewer than ten levels deep.
:class:`LimitedLoader` is PyYAML's safe loader with three guards, each checked while the file is
being read (so the work done before a refusal is bounded too):

* nesting depth (10 000 nested ``[`` would otherwise end in a ``RecursionError``);
* the number of values after expanding aliases (``*name``), so a few lines of nested anchors
  (an "alias bomb" that expands to billions of values) are refused at once; an alias that refers to
  the mapping or list it sits in is refused as well;
* the number of digits of an integer (Python refuses to convert integers of more than 4300 digits).

The size of the whole text is checked by the caller with :data:`MAX_TEXT_CHARS` before parsing.
"""

from __future__ import annotations

from typing import Any

import yaml

#: Largest recipe text, in characters. Real recipes are a few thousand characters.
MAX_TEXT_CHARS = 256_000
#: Deepest nesting of mappings and lists. Real recipes nest fewer than ten levels.
MAX_DEPTH = 50
#: Most values (keys, list items and scalars) after expanding aliases. Real recipes hold a few hundred.
MAX_VALUES = 20_000
#: Most digits of an integer. The largest sensible recipe number (a seed) has ten.
MAX_INT_DIGITS = 30


class YamlLimitError(Exception):
    """The text goes past one of the limits above; ``mark`` is where (a PyYAML mark or ``None``)."""

    def __init__(self, mark: Any, what: str, fix: str) -> None:
        super().__init__(what)
        self.mark = mark
        self.what = what
        self.fix = fix


class LimitedLoader(yaml.SafeLoader):
    """The safe loader with limits on nesting depth, expanded size and integer length."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._values = 0
        self._sizes: dict[int, int] = {}  # id(node) -> number of values it expands to

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)  # PyYAML reports undefined aliases
            size = self._sizes.get(id(node))
            if size is None:
                raise YamlLimitError(
                    event.start_mark,
                    f"The alias `*{event.anchor}` refers to the mapping or list it is part of, so it would repeat "
                    "itself forever.",
                    f"Replace `*{event.anchor}` with the values it should stand for.",
                )
            self._count(size, event.start_mark)
            return node
        event = self.peek_event()
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlLimitError(
                event.start_mark,
                f"The recipe is nested too deeply (more than {MAX_DEPTH} levels of mappings and lists); "
                "a recipe needs fewer than ten.",
                "Check that every '[' and '{' is closed and that the indentation is right; start from a template "
                "(`cellwright new`) if the file is not a recipe.",
            )
        self._count(1, event.start_mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in _children(node))
        return node

    def _count(self, values: int, mark: Any) -> None:
        self._values += values
        if self._values > MAX_VALUES:
            raise YamlLimitError(
                mark,
                f"The recipe holds more than {MAX_VALUES} values once its aliases (`*name`) are expanded; "
                "a recipe holds a few hundred. Nested aliases like these can make a few lines expand to "
                "billions of values, so the file is not read any further.",
                "Write the values out instead of repeating anchors (`&name`) through aliases (`*name`).",
            )

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(ch.isdigit() for ch in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise YamlLimitError(
                node.start_mark,
                f"This number has {digits} digits; recipe numbers have at most {MAX_INT_DIGITS}.",
                "Write a number of a sensible size (see `cellwright explain` for the allowed range of each key).",
            )
        return super().construct_yaml_int(node)


LimitedLoader.add_constructor("tag:yaml.org,2002:int", LimitedLoader.construct_yaml_int)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []

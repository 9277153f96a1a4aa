"""Errors a user can fix: one type, with a structured location.

Every problem a user can act on is a :class:`CellwrightError`: the recipe validator, the data doctor and the
graph checker return lists of them (severity ``error``, ``warning`` or ``info``), and the engine raises them.
Each names *where* (file, line, column, recipe key path, graph node, port, parameter: all optional), *what*
was found, what was *expected*, what was *received* and the *fix*. :meth:`CellwrightError.format` and
:meth:`CellwrightError.to_dict` are the only renderings (CLI text, ``--json`` output, GUI). The CLI and the
GUI print these without a traceback; any other exception is a bug in Cellwright.

Example::

    CellwrightError(file="recipe.yaml", line=14, column=5, key="model.graph[3].params.filters",
                    what="Invalid number of filters.", expected="an integer >= 1", received="filters=0",
                    fix="Use a positive number of filters.").format()
    # recipe.yaml:14:5 model.graph[3].params.filters: Invalid number of filters. Expected an integer >= 1.
    # Received: filters=0.
    #     fix: Use a positive number of filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

SEVERITIES = ("error", "warning", "info")


@dataclass
class Location:
    """Where a problem is; every part is optional.

    Attributes
    ----------
    file : str
        File or folder path (a recipe, an image).
    line, column : int, optional
        1-based position in ``file``.
    key : str
        Dotted recipe key path, e.g. ``model.graph[3].params.filters``.
    node : str
        Graph node id.
    block : str
        Block type of ``node`` (shown next to it: ``node 'enc1' (conv_block)``).
    port : str
        Input or output port of ``node`` (e.g. ``skip`` or ``s8``).
    param : str
        Parameter of ``node`` (dotted for nested parameters).
    """

    file: str = ""
    line: int | None = None
    column: int | None = None
    key: str = ""
    node: str = ""
    block: str = ""
    port: str = ""
    param: str = ""

    def text(self) -> str:
        """``file:line:column key node 'id' port 'p' params.x`` with the empty parts left out."""
        head = self.file
        if head and self.line is not None:
            head += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        parts = [head, self.key]
        if self.node:
            parts.append(f"node '{self.node}'" + (f" ({self.block})" if self.block else ""))
        if self.port:
            parts.append(f"port '{self.port}'")
        if self.param and not self.key.endswith(f"params.{self.param}"):
            parts.append(f"params.{self.param}")
        return " ".join(part for part in parts if part)

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) not in ("", None) for f in fields(self))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


class CellwrightError(Exception):
    """A problem the user can fix: where, what, what was expected and received, and how to fix it.

    Parameters
    ----------
    where : str, optional
        Free-text location (older call sites); when left out it is written from the structured parts.
    what : str
        What was found, as a sentence.
    fix : str, optional
        What to do about it.
    severity : str
        ``error``, ``warning`` or ``info``.
    key, line, column, file, node, block, port, param : optional
        The structured location (see :class:`Location`).
    expected, received : str, optional
        What was expected (``an integer >= 1``) and received (``filters=0``); rendered as
        ``Expected ... Received: ...`` after ``what``.
    """

    #: Set once the error was sent as an ``error`` event, so the CLI does not report it twice.
    event_emitted: bool = False

    def __init__(
        self,
        where: str = "",
        what: str = "",
        fix: str = "",
        severity: str = "error",
        key: str = "",
        line: int | None = None,
        column: int | None = None,
        *,
        file: str = "",
        node: str = "",
        block: str = "",
        port: str = "",
        param: str = "",
        expected: str = "",
        received: str = "",
    ) -> None:
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}; got {severity!r}")
        self.location = Location(file=str(file or ""), line=line, column=column, key=key or "", node=node or "",
                                 block=block or "", port=port or "", param=param or "")
        self._where = str(where or "")
        self.what = what
        self.fix = fix
        self.severity = severity
        self.expected = expected
        self.received = received
        super().__init__(self.format())

    # -- the structured location, readable and writable as attributes (older code sets line/where) ----------
    @property
    def where(self) -> str:
        """The location as text: the free text given, or the structured parts written out."""
        return self._where or self.location.text()

    @where.setter
    def where(self, value: str) -> None:
        self._where = str(value or "")

    @property
    def file(self) -> str:
        """File part of the location (read from a ``file:line:column`` where-text when not given)."""
        if self.location.file or not self._where or self.location.line is None:
            return self.location.file
        match = re.match(rf"^(.+?):{self.location.line}(?::\d+)?(?:\s|$)", self._where)
        return match.group(1) if match else ""

    @file.setter
    def file(self, value: str) -> None:
        self.location.file = value

    line = property(lambda self: self.location.line, lambda self, v: setattr(self.location, "line", v))
    column = property(lambda self: self.location.column, lambda self, v: setattr(self.location, "column", v))
    key = property(lambda self: self.location.key, lambda self, v: setattr(self.location, "key", v))
    node = property(lambda self: self.location.node, lambda self, v: setattr(self.location, "node", v))
    block = property(lambda self: self.location.block, lambda self, v: setattr(self.location, "block", v))
    port = property(lambda self: self.location.port, lambda self, v: setattr(self.location, "port", v))
    param = property(lambda self: self.location.param, lambda self, v: setattr(self.location, "param", v))

    # -- rendering: the one code path for CLI, JSON and GUI --------------------------------------------------
    def message(self) -> str:
        """``what`` with ``Expected ...`` and ``Received: ...`` appended (no location, no fix)."""
        text = self.what.strip()
        if self.expected:
            text = _sentence(text) + f" Expected {_sentence(self.expected)}"
        if self.received:
            text = _sentence(text) + f" Received: {_sentence(self.received)}"
        return text.strip()

    def format(self) -> str:
        """``where: what Expected ... Received: ...`` and, on the next line, ``    fix: ...``."""
        where = self.where
        text = f"{where}: {self.message()}" if where else self.message()
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Every part as plain JSON values (``--json`` output, worker events)."""
        return {
            "type": type(self).__name__,
            "where": self.where,
            "what": self.what,
            "expected": self.expected,
            "received": self.received,
            "fix": self.fix,
            "severity": self.severity,
            "message": self.message(),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "key": self.key,
            "node": self.node,
            "block": self.block,
            "port": self.port,
            "param": self.param,
        }

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.format()!r}, severity={self.severity!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellwrightError):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = Exception.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (type(self), dict(self.__dict__))


def _restore(cls: type[CellwrightError], state: dict[str, Any]) -> CellwrightError:
    """Rebuild a pickled error (errors cross process boundaries in workers)."""
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error.format())
    return error


#: A problem in a list (recipe validation, data doctor, graph checks): the same type as the error it becomes.
Problem = CellwrightError


def format_problems(problems: list[CellwrightError], source: str) -> str:
    """``N problems found in SOURCE:`` and every problem, indented."""
    count = len(problems)
    return f"{count} problem{'s' if count != 1 else ''} found in {source}:\n" + "\n".join(
        "  " + p.format().replace("\n", "\n  ") for p in problems
    )


class _ProblemListError(CellwrightError):
    """An error that stands for several problems; all of them are in ``problems``."""

    def __init__(self, problems: list[CellwrightError], source: str) -> None:
        self.problems = list(problems)
        self.source = source
        only = self.problems[0] if len(self.problems) == 1 else None
        super().__init__(where=source, what=format_problems(self.problems, source), fix=only.fix if only else "")

    def format(self) -> str:
        return self.what

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": [p.to_dict() for p in self.problems]}


class RecipeError(_ProblemListError):
    """A recipe has one or more problems; all of them are in ``problems``."""

    def __init__(self, problems: list[CellwrightError], source: str = "recipe") -> None:
        super().__init__(problems, source)


class DataError(CellwrightError):
    """Input data (images, masks, folders, manifests) cannot be used as asked."""


class GraphError(CellwrightError):
    """A model graph cannot be compiled (unknown block, cycle, shape mismatch, ...)."""


class GraphProblemsError(_ProblemListError, GraphError):
    """A graph has one or more errors (:func:`builder.graph_checks.check_graph` found them all)."""

    def __init__(self, problems: list[CellwrightError], source: str = "the model graph") -> None:
        super().__init__(problems, source)


class WeightsError(CellwrightError):
    """Pretrained weights are missing or do not fit the model."""


class TrainingError(CellwrightError):
    """Training stopped for a reason the user can act on (NaN loss, out of memory, ...)."""


class ExportError(CellwrightError):
    """A model could not be exported or imported safely."""

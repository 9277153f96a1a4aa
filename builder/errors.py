"""Errors a user can fix.

Every error that a user can act on is a :class:`CellwrightError` with three parts:
``where`` (file:line:column, a recipe key path or a graph node), ``what`` (what was found
and what was expected) and ``fix`` (what to do). The CLI and the GUI print these without a
traceback; any other exception is a bug in Cellwright.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problem:
    """One located, human-readable problem (used for recipe validation and the data doctor)."""

    where: str
    what: str
    fix: str = ""
    severity: str = "error"  # "error" | "warning" | "info"
    key: str = ""  # dotted key path, e.g. "train.epochs"
    line: int | None = None
    column: int | None = None

    def format(self) -> str:
        text = f"{self.where}: {self.what}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "what": self.what,
            "fix": self.fix,
            "severity": self.severity,
            "key": self.key,
            "line": self.line,
            "column": self.column,
        }


class CellwrightError(Exception):
    """An error the user can fix: says where, what and how to fix it."""

    def __init__(self, where: str, what: str, fix: str = "") -> None:
        self.where = where
        self.what = what
        self.fix = fix
        super().__init__(self.format())

    def format(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "what": self.what, "fix": self.fix, "type": type(self).__name__}


@dataclass
class _ErrorList:
    problems: list[Problem] = field(default_factory=list)


class RecipeError(CellwrightError):
    """A recipe has one or more problems; all of them are in ``problems``."""

    def __init__(self, problems: list[Problem], source: str = "recipe") -> None:
        self.problems = problems
        count = len(problems)
        what = f"{count} problem{'s' if count != 1 else ''} found in {source}:\n" + "\n".join(
            "  " + p.format().replace("\n", "\n  ") for p in problems
        )
        super().__init__(where=source, what=what, fix="")

    def format(self) -> str:
        return self.what


class DataError(CellwrightError):
    """Input data (images, masks, folders, manifests) cannot be used as asked."""


class GraphError(CellwrightError):
    """A model graph cannot be compiled (unknown block, cycle, shape mismatch, ...)."""


class WeightsError(CellwrightError):
    """Pretrained weights are missing or do not fit the model."""


class TrainingError(CellwrightError):
    """Training stopped for a reason the user can act on (NaN loss, out of memory, ...)."""


class ExportError(CellwrightError):
    """A model could not be exported or imported safely."""

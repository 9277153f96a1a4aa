"""Undo / redo of label edits, keeping only the changed rectangle of each edit (small for big images)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Change:
    """One edit: the rectangle it touched, with the pixels before and after."""

    rows: slice
    cols: slice
    before: np.ndarray
    after: np.ndarray
    what: str = ""


class EditHistory:
    """Undo and redo stacks for one label image.

    Parameters
    ----------
    limit : int
        Most edits kept for undo (older ones are dropped).

    Example
    -------
    >>> history = EditHistory()
    >>> old = np.zeros((3, 3), np.int32); new = old.copy(); new[1, 1] = 5
    >>> history.record(old, new, "brush")
    True
    >>> history.undo(new)[1, 1]
    0
    """

    def __init__(self, limit: int = 200) -> None:
        if limit < 1:
            raise ValueError(f"Invalid value received for argument `limit`. Expected an integer >= 1. "
                             f"Received: limit={limit}")
        self.limit = limit
        self._undo: list[Change] = []
        self._redo: list[Change] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def next_undo(self) -> str:
        """Name of the edit :meth:`undo` would revert ("" when none)."""
        return self._undo[-1].what if self._undo else ""

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    def record(self, before: np.ndarray, after: np.ndarray, what: str = "") -> bool:
        """Remember the edit ``before`` -> ``after``; returns False (and records nothing) when nothing changed."""
        changed = before != after
        if not changed.any():
            return False
        rows = np.flatnonzero(changed.any(axis=1))
        cols = np.flatnonzero(changed.any(axis=0))
        r, c = slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
        self._undo.append(Change(r, c, before[r, c].copy(), after[r, c].copy(), what))
        del self._undo[:-self.limit]
        self._redo.clear()
        return True

    def undo(self, labels: np.ndarray) -> np.ndarray:
        """``labels`` with the last edit reverted (a new array); unchanged when there is nothing to undo."""
        if not self._undo:
            return labels
        change = self._undo.pop()
        self._redo.append(change)
        out = labels.copy()
        out[change.rows, change.cols] = change.before
        return out

    def redo(self, labels: np.ndarray) -> np.ndarray:
        """``labels`` with the last undone edit applied again (a new array)."""
        if not self._redo:
            return labels
        change = self._redo.pop()
        self._undo.append(change)
        out = labels.copy()
        out[change.rows, change.cols] = change.after
        return out

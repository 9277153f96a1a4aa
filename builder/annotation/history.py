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

    @property
    def nbytes(self) -> int:
        """Bytes of pixels the undo and redo stacks hold."""
        return sum(c.before.nbytes + c.after.nbytes for c in (*self._undo, *self._redo))

    def shrink_to(self, max_bytes: int) -> None:
        """Drop the redo stack, then the oldest edits, until at most ``max_bytes`` are held."""
        if self.nbytes > max_bytes:
            self._redo.clear()
        while self._undo and self.nbytes > max_bytes:
            del self._undo[0]

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


def labels_digest(labels: np.ndarray) -> str:
    """A short fingerprint of a label image (shape, type and pixels)."""
    import hashlib

    array = np.ascontiguousarray(labels)
    digest = hashlib.blake2b(str((array.shape, array.dtype.str)).encode(), digest_size=16)
    digest.update(array.tobytes())
    return digest.hexdigest()


class HistoryShelf:
    """Undo histories of the images left while annotating, so coming back to one can still undo its edits.

    A history is only handed back for the very labels it was put away with (a fingerprint is kept): a mask
    changed on disk in between (e.g. a new proposal) starts with an empty history. Memory stays bounded:
    at most ``max_images`` histories and ``max_bytes`` of stored pixels; the least recently left go first.

    Parameters
    ----------
    max_images : int
        Most images whose history is kept.
    max_bytes : int
        Most bytes of undo/redo pixels kept over all images.
    """

    def __init__(self, max_images: int = 20, max_bytes: int = 256 * 2**20) -> None:
        if max_images < 1 or max_bytes < 1:
            raise ValueError(f"Invalid value received for `max_images`/`max_bytes`. Expected integers >= 1. "
                             f"Received: max_images={max_images}, max_bytes={max_bytes}")
        self.max_images, self.max_bytes = max_images, max_bytes
        self._shelf: dict[str, tuple[EditHistory, str]] = {}

    def __len__(self) -> int:
        return len(self._shelf)

    @property
    def nbytes(self) -> int:
        return sum(history.nbytes for history, _digest in self._shelf.values())

    def put(self, key: str, history: EditHistory, labels: np.ndarray) -> None:
        """Keep ``history`` of the image ``key`` whose labels are now ``labels``; drop the oldest beyond the bounds."""
        self._shelf.pop(key, None)
        if not history.can_undo and not history.can_redo:
            return
        self._shelf[key] = (history, labels_digest(labels))
        while len(self._shelf) > self.max_images or (len(self._shelf) > 1 and self.nbytes > self.max_bytes):
            del self._shelf[next(iter(self._shelf))]
        if self.nbytes > self.max_bytes:  # one history alone too big: keep its newest edits that fit
            history.shrink_to(self.max_bytes)

    def take(self, key: str, labels: np.ndarray) -> EditHistory | None:
        """The history put away for ``key`` if ``labels`` are still the labels it ends at, else None."""
        kept = self._shelf.pop(key, None)
        if kept is None or kept[1] != labels_digest(labels):
            return None
        return kept[0]

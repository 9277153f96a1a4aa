"""When to save annotations: after a number of strokes, or when edits have waited a number of seconds."""

from __future__ import annotations

import time
from collections.abc import Callable


class AutosavePolicy:
    """Counts unsaved edits and says when to save.

    Parameters
    ----------
    every_strokes : int
        Save after this many unsaved edits (0: never by count).
    every_seconds : float
        Save when the oldest unsaved edit is this old (0: never by time); the GUI asks on a timer.
    clock : callable
        Seconds (monotonic); a test passes its own.
    """

    def __init__(self, every_strokes: int = 5, every_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if every_strokes < 0 or every_seconds < 0:
            raise ValueError(f"Invalid value received for `every_strokes`/`every_seconds`. Expected values >= 0. "
                             f"Received: every_strokes={every_strokes}, every_seconds={every_seconds}")
        self.every_strokes, self.every_seconds, self.clock = every_strokes, every_seconds, clock
        self.unsaved = 0
        self._first_unsaved: float | None = None

    def edited(self) -> bool:
        """Note one edit; True when it is time to save."""
        self.unsaved += 1
        if self._first_unsaved is None:
            self._first_unsaved = self.clock()
        return self.due()

    def due(self) -> bool:
        """True when there are unsaved edits and the count or the age says save."""
        if not self.unsaved:
            return False
        if self.every_strokes and self.unsaved >= self.every_strokes:
            return True
        assert self._first_unsaved is not None
        return bool(self.every_seconds) and self.clock() - self._first_unsaved >= self.every_seconds

    def saved(self) -> None:
        """Everything is on disk."""
        self.unsaved = 0
        self._first_unsaved = None

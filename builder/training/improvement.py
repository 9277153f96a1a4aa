"""When is an epoch better than the best so far? The monitored score, then the validation loss on a tie.

A headline score measured on a small validation set takes few values: balanced accuracy on 26 cell crops reaches
1.0 early and stays there. Comparing only the score, the first epoch that reaches the top keeps the best
checkpoint for good, even when later epochs with the same score fit the validation images much better (a
pre-trained encoder can score 1.0 after one epoch with a barely trained head). So an epoch whose score ties the
best one counts as better when its validation loss (the tie-breaker) is lower. Plain Python, no Keras.
"""

from __future__ import annotations

import math
from typing import Any

#: The logged quantity that breaks ties of the monitored score.
TIE_BREAKER = "val_loss"
#: Scores closer than this count as equal (they are fractions of a few images, or the same float).
TIE_TOLERANCE = 1e-9


def tie_breaker(monitor: str) -> str | None:
    """The quantity that breaks ties of ``monitor``, or None when ``monitor`` is that quantity itself."""
    return None if monitor == TIE_BREAKER else TIE_BREAKER


def tie_value(logs: dict[str, Any], monitor: str) -> float | None:
    """The tie-breaker's value in one epoch's ``logs`` (None when it is missing or not finite)."""
    key = tie_breaker(monitor)
    value = logs.get(key) if key is not None else None
    try:
        number = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) else None


def improves(value: float, best: float | None, *, mode: str, tie: float | None = None,
             best_tie: float | None = None, min_delta: float = 0.0) -> bool:
    """True when ``value`` beats ``best`` (by more than ``min_delta``), or ties it with a lower ``tie``.

    Parameters
    ----------
    value, best : float
        The monitored quantity this epoch and the best so far (None: no best yet, so any finite value improves).
    mode : {"min", "max"}
        Whether lower or higher ``value`` is better.
    tie, best_tie : float, optional
        The tie-breaker (validation loss, lower is better) this epoch and at the best epoch.
    min_delta : float
        Least change of ``value`` that counts as an improvement on its own.

    Examples
    --------
    >>> improves(1.0, 1.0, mode="max", tie=0.04, best_tie=0.06)
    True
    >>> improves(1.0, 1.0, mode="max", tie=0.07, best_tie=0.06)
    False
    >>> improves(0.9, 1.0, mode="max", tie=0.01, best_tie=0.06)
    False
    """
    if mode not in ("min", "max"):
        raise ValueError(f"Invalid value received for argument `mode`. Expected 'min' or 'max'. "
                         f"Received: mode={mode!r}")
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    if value > best + min_delta if mode == "max" else value < best - min_delta:
        return True
    tied = abs(value - best) <= TIE_TOLERANCE
    return bool(tied and tie is not None and best_tie is not None and tie < best_tie)

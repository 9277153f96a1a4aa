"""Durations written the way people write them: ``20m``, ``90s``, ``1h30m``, ``2.5h`` (for ``train.time_budget``)."""

from __future__ import annotations

import re

#: Shortest time budget: below this even one epoch of the smallest model cannot be measured.
MIN_SECONDS = 1.0
#: Longest time budget (30 days).
MAX_SECONDS = 30 * 24 * 3600.0

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(hours?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])", re.IGNORECASE)
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}

EXAMPLES = "'20m', '90s', '1h30m' or '2h'"
#: What to do, after the ';' that separates it in the message (the recipe checker shows it as the fix).
FIX = "; write a number with a unit, h (hours), m (minutes) or s (seconds), e.g. 20m or 1h30m"


def parse_duration(text: str) -> float:
    """Seconds in ``text``: hours, minutes and seconds in that order, e.g. ``1h30m`` -> 5400.0.

    Raises
    ------
    ValueError
        With a message saying what was received and how to write it.

    Examples
    --------
    >>> parse_duration("1h30m"), parse_duration("90s"), parse_duration("20 min")
    (5400.0, 90.0, 1200.0)
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected a duration such as {EXAMPLES}, received {text!r}{FIX}")
    rest, total, last_rank = text.strip(), 0.0, -1
    while rest:
        match = _PART.match(rest)
        if match is None:
            raise ValueError(f"expected a duration such as {EXAMPLES} (a number and a unit h, m or s), "
                             f"received {text!r}{FIX}")
        unit = match.group(2)[0].lower()
        rank = "hms".index(unit)
        if rank <= last_rank:
            raise ValueError("expected a duration with hours, minutes and seconds once each, in that order "
                             f"(e.g. '1h30m'), received {text!r}{FIX}")
        total += float(match.group(1)) * _UNIT_SECONDS[unit]
        last_rank = rank
        rest = rest[match.end():].lstrip()
    if not MIN_SECONDS <= total <= MAX_SECONDS:
        raise ValueError(f"expected a duration between {MIN_SECONDS:g} s and 30 days, received {text!r} "
                         f"({total:g} s); give the training time, at least a few minutes for real data")
    return total


def readable_duration(value: object) -> str | None:
    """A recipe's time budget as written, checked: a bare number is seconds; empty or None means no budget.

    Raises
    ------
    ValueError
        When ``value`` is not a duration (see :func:`parse_duration`).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value}s"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as {EXAMPLES}, received {value!r}{FIX}")
    parse_duration(value)
    return value.strip()

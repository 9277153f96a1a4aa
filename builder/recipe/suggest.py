"""'Did you mean ...?' suggestions for misspelled keys and values."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: object, choices: Iterable[object], cutoff: float = 0.6) -> str | None:
    """Return the choice closest to ``word`` (case-insensitive), or ``None`` if none is close."""
    options = [str(c) for c in choices]
    text = str(word)
    lowered = {o.lower(): o for o in options}
    if text.lower() in lowered:
        return lowered[text.lower()]
    match = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[match[0]] if match else None


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """Return ' Did you mean `x`?' or an empty string."""
    match = closest(word, choices)
    return f" Did you mean `{match}`?" if match is not None else ""

"""JSON-lines events emitted by long operations (training, prediction, export).

Every event is a dict with at least ``{"event": NAME, "time": seconds_since_epoch}``. Names:
``start``, ``epoch``, ``batch``, ``metric``, ``warning``, ``log``, ``artifact``, ``done``, ``error``.
The CLI turns them into progress bars; the GUI into live plots. Workers write one JSON object per line.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import IO, Any

EVENT_NAMES = ("start", "epoch", "batch", "metric", "warning", "log", "artifact", "done", "error")

EventSink = Callable[[dict[str, Any]], None]


def make_event(name: str, /, **payload: Any) -> dict[str, Any]:
    """Build an event dictionary; ``name`` must be one of :data:`EVENT_NAMES`."""
    if name not in EVENT_NAMES:
        raise ValueError(f"Unknown event name {name!r}; expected one of {', '.join(EVENT_NAMES)}.")
    return {"event": name, "time": round(time.time(), 3), **payload}


def json_lines_sink(stream: IO[str] | None = None) -> EventSink:
    """Return a sink that writes each event as one JSON line to ``stream`` (stdout by default)."""

    def sink(event: dict[str, Any]) -> None:
        out = stream or sys.stdout
        out.write(json.dumps(event, default=_to_jsonable) + "\n")
        out.flush()

    return sink


def parse_event_line(line: str) -> dict[str, Any] | None:
    """Parse one line of worker output; returns ``None`` for lines that are not events (plain log text)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    if isinstance(value, dict) and value.get("event") in EVENT_NAMES:
        return value
    return None


def _to_jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)

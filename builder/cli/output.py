"""Printing helpers shared by CLI commands (plain text for people, JSON for the GUI and scripts)."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(payload: Any) -> None:
    """Write ``payload`` as one JSON document on standard output."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def say(text: str = "") -> None:
    """Write a line of text for people on standard output."""
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    """Write a line on standard error."""
    sys.stderr.write(text + "\n")

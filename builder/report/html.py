"""Render report sections into one self-contained HTML file (Jinja2; images inline as base64 PNG, CSS inline)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"
_NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+(e[-+]?\d+)?( ★)?$|^-$")


def environment() -> Any:
    """The Jinja2 environment for the report templates (autoescaped; ``b64`` filter for PNG bytes)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["b64"] = lambda data: base64.b64encode(data or b"").decode("ascii")
    env.tests["numeric_text"] = lambda text: bool(_NUMBER.match(str(text)))
    return env


def render_html(template: str, **context: Any) -> str:
    """Render ``template`` (a file in ``builder/report/templates``) with ``context``."""
    return environment().get_template(template).render(**context)

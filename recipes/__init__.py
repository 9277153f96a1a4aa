"""Recipe templates (``templates/``) and runnable examples (``examples/``), shipped as package data."""

from pathlib import Path

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
EXAMPLES = HERE / "examples"
SCHEMA = HERE / "cellwright.schema.json"

"""The recipe JSON Schema, generated from the pydantic models (one source of truth)."""

from __future__ import annotations

import json
from typing import Any

from builder import __version__
from builder.recipe.schema import Recipe

SCHEMA_ID = "https://cellwright.org/schema/recipe-v1.json"


def recipe_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a recipe, with help texts and UI metadata."""
    schema = Recipe.model_json_schema(mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "x-cellwright-version": __version__,
        **schema,
    }
    schema["title"] = "Cellwright recipe"
    return schema


def recipe_json_schema_text() -> str:
    """The schema as indented JSON text (what ``cellwright schema`` writes)."""
    return json.dumps(recipe_json_schema(), indent=2, ensure_ascii=False) + "\n"

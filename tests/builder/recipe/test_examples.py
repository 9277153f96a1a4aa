"""Every shipped example and template recipe validates and references the shipped JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import recipes
from builder.recipe import validate_file
from builder.recipe.json_schema import recipe_json_schema, recipe_json_schema_text

SHIPPED = sorted(recipes.EXAMPLES.glob("*.yaml")) + sorted(recipes.TEMPLATES.glob("*.yaml"))


def test_there_is_an_example_for_every_trainable_task():
    from builder.recipe import validate_file

    tasks = {validate_file(p)[0].task for p in recipes.EXAMPLES.glob("*.yaml")}
    assert {"classification", "segmentation", "instance_segmentation", "image_to_image"} <= tasks


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_recipe_validates(path: Path):
    recipe, problems = validate_file(path)
    assert recipe is not None, "\n".join(p.format() for p in problems)
    assert not [p for p in problems if p.severity == "error"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_recipe_references_the_schema(path: Path):
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../cellwright.schema.json"
    assert (path.parent / "../cellwright.schema.json").resolve() == recipes.SCHEMA.resolve()


def test_shipped_schema_is_up_to_date():
    assert recipes.SCHEMA.read_text() == recipe_json_schema_text(), (
        "recipes/cellwright.schema.json is stale: run `cellwright schema --out recipes/cellwright.schema.json --force`"
    )


def test_schema_carries_help_and_ui_metadata():
    schema = recipe_json_schema()
    train = schema["$defs"]["TrainSection"]["properties"]
    assert train["epochs"]["description"]
    assert train["epochs"]["minimum"] == 1
    assert train["epochs"]["x-cellwright"]["commonly_used"] is True
    assert "auto" in train["batch_size"]["x-cellwright"]["suggested_values"]
    assert schema["additionalProperties"] is False
    json.dumps(schema)


def test_schema_validates_examples_like_an_editor_would():
    import jsonschema
    import yaml

    validator = jsonschema.Draft202012Validator(recipe_json_schema())
    for path in SHIPPED:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert not errors, f"{path.name}: {errors[0].message}"
    bad = yaml.safe_load(SHIPPED[0].read_text())
    bad["train"] = {"epochs": 0, "unknown_key": 1}
    assert list(validator.iter_errors(bad))

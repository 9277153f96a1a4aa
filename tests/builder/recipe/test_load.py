"""Loading recipes: positions, all errors at once, safe YAML only, round trips and key order."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from builder.errors import RecipeError
from builder.recipe import dump_recipe, load_recipe, validate_text
from builder.recipe.load import save_recipe

VALID = textwrap.dedent(
    """\
    cellwright: 1
    task: segmentation
    name: demo
    data:
      layout: folders
      masks: masks
    train:
      epochs: 5
      batch_size: 4
    """
)


def _errors(text: str) -> list:
    recipe, problems = validate_text(text, source="r.yaml")
    assert recipe is None
    return [p for p in problems if p.severity == "error"]


def test_valid_recipe_fills_defaults():
    recipe, problems = validate_text(VALID, source="r.yaml")
    assert recipe is not None, [p.format() for p in problems]
    assert recipe.train.epochs == 5
    assert recipe.preprocess.normalize.method == "percentile"
    assert (recipe.preprocess.normalize.low, recipe.preprocess.normalize.high) == (1.0, 99.8)


def test_every_error_reported_at_once_with_position():
    text = VALID.replace("epochs: 5", "epochs: -3").replace("batch_size: 4", "batch_size: many")
    text = text.replace("layout: folders", "layout: folder")
    errors = _errors(text)
    by_key = {p.key: p for p in errors}
    assert set(by_key) == {"train.epochs", "train.batch_size", "data.layout"}
    assert by_key["train.epochs"].line == 8 and by_key["train.epochs"].column == 3
    assert by_key["train.epochs"].where.startswith("r.yaml:8:3 train.epochs")
    assert "Received: epochs=-3" in by_key["train.epochs"].what
    assert ">= 1" in by_key["train.epochs"].what
    assert "Did you mean `folders`?" in by_key["data.layout"].what
    assert "'auto'" in by_key["train.batch_size"].what


def test_misspelled_key_suggests_the_right_one():
    errors = _errors(VALID.replace("  epochs: 5", "  epoch: 5"))
    assert len(errors) == 1
    assert errors[0].key == "train.epoch"
    assert "Unknown key `epoch`. Did you mean `epochs`?" in errors[0].what
    assert "epochs" in errors[0].fix


def test_missing_required_key():
    errors = _errors(VALID.replace("name: demo\n", ""))
    assert [e.key for e in errors] == ["name"]
    assert "required key `name` is missing" in errors[0].what


def test_python_object_tags_are_refused():
    text = VALID + "description: !!python/object/apply:os.system ['echo pwned']\n"
    errors = _errors(text)
    assert len(errors) == 1
    assert errors[0].line == 10
    assert "construct that recipes do not allow" in errors[0].what


def test_yaml_syntax_error_is_located():
    errors = _errors(VALID.replace("  epochs: 5", "  epochs: [5"))
    assert errors[0].line is not None
    assert "not valid YAML" in errors[0].what
    assert "indentation" in errors[0].fix


def test_duplicate_keys_are_reported():
    errors = _errors(VALID + "name: other\n")
    assert any("appears twice" in e.what and e.line == 10 for e in errors)


def test_cross_field_problem_names_keys_and_position():
    errors = _errors(VALID.replace("  masks: masks\n", "  images: images\n"))
    assert [e.key for e in errors] == ["data.masks"]
    assert errors[0].line == 4  # nearest ancestor in the file: data
    assert "learns from masks" in errors[0].what


def test_load_recipe_raises_with_every_problem(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace("epochs: 5", "epochs: 0").replace("task: segmentation", "task: segment"))
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert len(info.value.problems) == 2
    assert str(path) in info.value.format()


def test_round_trip_keeps_values_and_key_order(tmp_path: Path):
    path = tmp_path / "r.yaml"
    path.write_text(VALID)
    recipe = load_recipe(path)
    text = dump_recipe(recipe)
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert keys == ["cellwright", "task", "name", "data", "train"]
    again, problems = validate_text(text)
    assert again == recipe, problems
    out = save_recipe(again, tmp_path / "copy.yaml")
    assert load_recipe(out) == recipe


def test_full_dump_contains_every_default():
    recipe, _ = validate_text(VALID)
    full = dump_recipe(recipe, full=True)
    assert "percentile" in full and "warmup_epochs" in full
    again, _ = validate_text(full)
    assert again == recipe


def test_save_never_overwrites_without_asking(tmp_path: Path):
    recipe, _ = validate_text(VALID)
    path = tmp_path / "r.yaml"
    path.write_text("precious")
    with pytest.raises(Exception, match="already exists"):
        save_recipe(recipe, path)
    assert path.read_text() == "precious"
    save_recipe(recipe, path, overwrite=True)
    assert load_recipe(path) == recipe

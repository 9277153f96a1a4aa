"""``train.time_budget``: how durations are read, and the error a recipe with a bad one gets."""

from __future__ import annotations

import pytest

from builder.errors import CellwrightError
from builder.recipe import recipe_from_dict
from builder.recipe.duration import parse_duration


def _recipe(train: dict) -> dict:
    return {"cellwright": 1, "name": "x", "task": "classification", "data": {"layout": "demo", "demo": "cells"},
            "model": {"template": "classifier"}, "train": train}


@pytest.mark.parametrize(("text", "seconds"), [
    ("20m", 20 * 60), ("90s", 90), ("1h30m", 90 * 60), ("2h", 7200), ("1h 2m 3s", 3723), ("2.5h", 9000),
    ("20 min", 1200), ("45 seconds", 45), ("1H30M", 5400),
])
def test_durations_people_write_are_read(text: str, seconds: float):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "20", "twenty minutes", "30m1h", "5m5m", "10 parsecs", "0s", "-5m", "40d"])
def test_unreadable_durations_are_refused(text: str):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_recipe_reads_budget_and_bare_numbers_as_seconds():
    assert recipe_from_dict(_recipe({"time_budget": "1h30m"})).train.budget_seconds() == 5400
    assert recipe_from_dict(_recipe({"time_budget": 90})).train.budget_seconds() == 90
    assert recipe_from_dict(_recipe({})).train.budget_seconds() is None


def test_bad_budget_error_names_the_key_and_what_was_received():
    with pytest.raises(CellwrightError) as caught:
        recipe_from_dict(_recipe({"time_budget": "20 minutes please"}))
    text = str(caught.value)
    assert "train.time_budget" in text and "20 minutes please" in text and "1h30m" in text
    assert caught.value.fix.startswith("Write a number with a unit")


def test_a_budget_alone_lets_the_budget_end_training_and_explicit_epochs_stay_the_limit():
    from builder.recipe.sections.train import BUDGET_EPOCHS

    assert recipe_from_dict(_recipe({"time_budget": "20m"})).train.epochs == BUDGET_EPOCHS
    assert recipe_from_dict(_recipe({"time_budget": "20m", "epochs": 80})).train.epochs == 80
    assert recipe_from_dict(_recipe({})).train.epochs == 50

"""The tracking task reads its linking settings from the recipe (``evaluate.tracking``)."""

from __future__ import annotations

import pytest

from builder.errors import CellwrightError
from builder.recipe import load_recipe
from builder.tasks.tracking import link_settings


def _recipe(tmp_path, tracking: str):
    path = tmp_path / "r.yaml"
    path.write_text(f"cellwright: 1\nname: t\ntask: tracking\ndata: {{layout: ctc, root: data}}\n"
                    f"evaluate:\n  tracking: {tracking}\n")
    return load_recipe(path)


def test_linking_settings_come_from_the_recipe(tmp_path):
    settings = link_settings(_recipe(tmp_path, "{max_gap: 0, divisions: false, search_radius: 30}"))
    assert (settings.max_gap, settings.divisions, settings.radius) == (0, False, 30.0)
    default = link_settings(_recipe(tmp_path, "{}"))
    assert (default.max_gap, default.divisions, default.radius) == (2, True, None)  # radius measured from speed


def test_a_bad_tracking_setting_is_a_located_error(tmp_path):
    with pytest.raises(CellwrightError, match="max_gap"):
        _recipe(tmp_path, "{max_gap: -1}")

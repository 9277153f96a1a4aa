"""Old recipe versions are upgraded; recipes from a newer Cellwright are refused with advice."""

from __future__ import annotations

from builder.recipe import CURRENT_VERSION, validate_text
from builder.recipe.migrate import MIGRATIONS, migrate, register_migration


def test_version_zero_recipe_is_upgraded():
    text = "cellwright: 0\nname: old\ntask: image_to_image\ndata: {layout: paired, targets: t}\n" \
           "train: {n_epochs: 7}\n"
    recipe, problems = validate_text(text)
    assert recipe is not None, [p.format() for p in problems]
    assert recipe.train.epochs == 7
    assert any(p.severity == "info" and "Upgraded" in p.what for p in problems)


def test_newer_version_is_refused_with_advice():
    recipe, problems = validate_text(f"cellwright: {CURRENT_VERSION + 1}\nname: x\ntask: segmentation\n")
    assert recipe is None
    assert "newer Cellwright" in problems[0].what
    assert "pip install -U cellwright" in problems[0].fix


def test_migrations_chain_in_order():
    calls = []
    try:
        @register_migration(100)
        def step_100(data):
            calls.append(100)
            return {**data, "b": data["a"] + 1}

        @register_migration(101)
        def step_101(data):
            calls.append(101)
            return {**data, "c": data["b"] * 2}

        data, notes = migrate({"cellwright": 100, "a": 1}, current=102)
    finally:
        MIGRATIONS.pop(100, None)
        MIGRATIONS.pop(101, None)
    assert calls == [100, 101]
    assert data == {"cellwright": 102, "a": 1, "b": 2, "c": 4}
    assert len(notes) == 2

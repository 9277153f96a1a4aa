"""Upgrade recipes written for older format versions, one registered step per version.

A migration takes the raw recipe dictionary of version ``N`` and returns the dictionary of version
``N + 1``. The loader applies them in order, so old recipes keep working instead of being rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from builder.errors import Problem

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {}
VERSION_KEY = "cellwright"


def register_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Register the function that upgrades a recipe from ``from_version`` to ``from_version + 1``."""

    def decorator(function: Migration) -> Migration:
        if from_version in MIGRATIONS:
            raise ValueError(f"A migration from recipe version {from_version} is already registered.")
        MIGRATIONS[from_version] = function
        return function

    return decorator


def migrate(data: dict[str, Any], current: int, source: str = "recipe") -> tuple[dict[str, Any], list[Problem]]:
    """Upgrade ``data`` to version ``current``; returns the new data and notes about what changed."""
    notes: list[Problem] = []
    version = data.get(VERSION_KEY, current)
    if not isinstance(version, int) or isinstance(version, bool):
        return data, []  # the schema reports the wrong type with its position
    if version > current:
        notes.append(Problem(
            where=f"{source} {VERSION_KEY}",
            what=f"This recipe is format version {version}, written by a newer Cellwright; this one reads up "
                 f"to version {current}.",
            fix="Update Cellwright (pip install -U cellwright) to use this recipe.",
            key=VERSION_KEY,
        ))
        return data, notes
    while version < current:
        step = MIGRATIONS.get(version)
        if step is None:
            notes.append(Problem(
                where=f"{source} {VERSION_KEY}",
                what=f"Recipe format version {version} cannot be upgraded automatically.",
                fix=f"Set `{VERSION_KEY}: {current}` and check the recipe with `cellwright validate`.",
                key=VERSION_KEY,
            ))
            return data, notes
        data = step(dict(data))
        version += 1
        data[VERSION_KEY] = version
        notes.append(Problem(
            where=f"{source} {VERSION_KEY}", what=f"Upgraded the recipe to format version {version}.",
            severity="info", key=VERSION_KEY,
        ))
    return data, notes


@register_migration(0)
def _from_draft_format(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (pre-release drafts) called the model section `network` and the epochs `train.n_epochs`."""
    if "network" in data and "model" not in data:
        data["model"] = data.pop("network")
    train = data.get("train")
    if isinstance(train, dict) and "n_epochs" in train and "epochs" not in train:
        train = dict(train)
        train["epochs"] = train.pop("n_epochs")
        data["train"] = train
    return data

"""``train.init_from``: which trained model a recipe fine-tunes from, found and checked without TensorFlow.

The value is a run folder (its ``checkpoints/best.keras``, else ``last.keras``), a ``.keras`` file, or a
bundle (``.zip`` or folder written by ``cellwright export``), relative to the recipe's folder. ``validate``
says when it is missing and, for a run folder or a ``.keras`` file beside its run's ``recipe.yaml``, when the
model it holds cannot fit this recipe (another task, another ``model:`` section or other channels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder.errors import Problem
from builder.run_folder import files

KEY = "train.init_from"
#: Files a bundle folder has (see builder.workflow.model_source).
BUNDLE_MARKERS = ("MANIFEST.sha256", "rdf.yaml", "bioimageio.yaml")
FIX = ("Set train.init_from to a finished run folder (runs/NAME-DATE), its checkpoints/best.keras, or a bundle "
       ".zip from 'cellwright export'; paths are relative to the recipe's folder.")


def init_from_path(value: str, base_dir: Path) -> Path:
    """The path ``value`` names (``~`` expanded, relative to ``base_dir``)."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(base_dir) / path


def model_file(path: Path) -> Path | None:
    """The ``.keras`` file to start from: ``path`` itself, or a run folder's best (else last) checkpoint;
    None for a bundle (opened with its metadata at training time) or when there is none."""
    if path.is_file() and path.suffix.lower() in (".keras", ".h5"):
        return path
    if path.is_dir():
        for checkpoint in (files.BEST_CHECKPOINT, files.LAST_CHECKPOINT):
            candidate = path / files.CHECKPOINTS.name / checkpoint.name
            if candidate.is_file():
                return candidate
    return None


def is_bundle(path: Path) -> bool:
    return (path.is_file() and path.suffix.lower() == ".zip") or (
        path.is_dir() and any((path / marker).is_file() for marker in BUNDLE_MARKERS))


def _source_recipe(path: Path) -> dict[str, Any] | None:
    """The recipe the model at ``path`` was trained with (a run folder's ``recipe.yaml``), if there is one."""
    import yaml

    folders = [path] if path.is_dir() else [path.parent, path.parent.parent]
    for folder in folders:
        recipe = folder / files.RECIPE.name
        if recipe.is_file():
            try:
                data = yaml.safe_load(recipe.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError):
                return None
            return data if isinstance(data, dict) else None
    return None


def same_model_section(recipe: Any) -> bool:
    """Whether the model ``recipe.train.init_from`` names was trained with this recipe's ``model:`` section (False
    when its recipe is unknown, e.g. for a bundle)."""
    value = recipe.train.init_from
    source = _source_recipe(init_from_path(value, recipe.base_dir)) if value else None
    return source is not None and _same_model(source, recipe)


def _same_model(source: dict[str, Any], recipe: Any) -> bool:
    """Whether a run's recipe.yaml contents ``source`` hold ``recipe``'s ``model:`` section."""
    return (source.get("model") or {}) == recipe.model_dump(mode="json").get("model")


def init_from_problems(recipe: Any) -> list[Problem]:
    """What is wrong with ``recipe.train.init_from`` (nothing when it is unset or fine)."""
    value = recipe.train.init_from
    if not value:
        return []
    path = init_from_path(value, recipe.base_dir)
    if not path.exists():
        return [Problem(KEY, "The model to fine-tune from was not found.", FIX, key=KEY,
                        expected="an existing run folder, .keras file or bundle", received=str(path))]
    if model_file(path) is None and not is_bundle(path):
        return [Problem(KEY, "This is not a model to fine-tune from.", FIX, key=KEY,
                        expected="a run folder with checkpoints/best.keras, a .keras file or a bundle .zip",
                        received=str(path))]
    source = _source_recipe(path)
    if source is None:
        return []
    differences = []
    if source.get("task") != recipe.task:
        differences.append(f"task {source.get('task')!r} vs {recipe.task!r}")
    if not _same_model(source, recipe):  # compared as a run folder's recipe.yaml holds it
        differences.append("another model: section")
    theirs, ours = (source.get("data") or {}).get("channels"), recipe.data.channels
    if theirs and ours and len(theirs) != len(ours):
        differences.append(f"{len(theirs)} channel(s) vs {len(ours)}")
    if not differences:
        return []
    return [Problem(KEY, "The model to fine-tune from does not fit this recipe's model.",
                    "Fine-tune with the model: section, task and channels that model was trained with (copy them "
                    "from its recipe.yaml), or leave train.init_from out to start from random weights.", key=KEY,
                    expected=f"the same task, model: section and channels as {path.name}",
                    received=", ".join(differences))]

"""Load, validate and write recipes.

``load_recipe(path)`` returns a validated :class:`Recipe` or raises :class:`RecipeError` listing every
problem at once, each with ``file:line:column``, the key path, what was found, what is allowed and a fix.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from builder.errors import CellwrightError, Problem, RecipeError
from builder.recipe import graph_check  # noqa: F401  (registers the graph check)
from builder.recipe.checks import run_checks
from builder.recipe.migrate import migrate
from builder.recipe.schema import CURRENT_VERSION, Recipe
from builder.recipe.validate import problems_from_validation_error
from builder.recipe.yaml_io import LocatedYaml, dump_yaml, parse_yaml, reorder_like, too_large_problem
from builder.recipe.yaml_limits import MAX_TEXT_CHARS

SCHEMA_FILE_NAME = "cellwright.schema.json"
#: Largest recipe file read, in bytes (a UTF-8 character takes at most 4 bytes).
MAX_FILE_BYTES = MAX_TEXT_CHARS * 4


def validate_text(text: str, source: str = "recipe", path: Path | None = None) -> tuple[Recipe | None, list[Problem]]:
    """Validate recipe ``text``; return the recipe (``None`` if it has errors) and all problems found.

    Problems include warnings and notes (``severity`` other than ``"error"``) even when the recipe is valid.
    """
    located = parse_yaml(text, source)
    problems = list(located.problems)
    if located.problems and located.data is None:
        return None, problems
    data = located.data
    if data is None:
        return None, [Problem(
            where=source, what="The recipe is empty.",
            fix="Start from a template: `cellwright new --task segmentation --out recipe.yaml`.",
        )]
    if not isinstance(data, dict):
        return None, [Problem(
            where=f"{source}:1:1", line=1, column=1,
            what=f"A recipe is a mapping of keys (name:, task:, data:, ...), but this file holds a "
                 f"{type(data).__name__}.",
            fix="Start from a template: `cellwright new --task segmentation --out recipe.yaml`.",
        )]
    data, notes = migrate(data, CURRENT_VERSION, source)
    problems.extend(notes)
    if any(p.severity == "error" for p in notes):
        return None, _locate(problems, located, source)
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as error:
        problems.extend(problems_from_validation_error(error, located, Recipe, source))
        return None, _locate(problems, located, source)
    recipe._raw = data
    recipe._source_path = path
    problems.extend(run_checks(recipe))
    problems = _locate(problems, located, source)
    if any(p.severity == "error" for p in problems):
        return None, problems
    return recipe, problems


def validate_file(path: str | os.PathLike[str]) -> tuple[Recipe | None, list[Problem]]:
    """Validate the recipe file at ``path`` (see :func:`validate_text`)."""
    file = Path(path)
    try:
        text = read_recipe_text(file)
    except RecipeError as error:
        return None, error.problems
    return validate_text(text, source=str(file), path=file.resolve())


def read_recipe_text(path: str | os.PathLike[str]) -> str:
    """Read a recipe file as text, reading no more than a recipe can hold.

    Raises
    ------
    RecipeError
        The file is larger than a recipe may be (also for endless files such as ``/dev/zero``).
    CellwrightError
        The file does not exist, cannot be read, or is not UTF-8 text (e.g. an image).
    """
    file = Path(path)
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise CellwrightError(str(file), "This recipe file does not exist.",
                              "Check the path, or create one with `cellwright new --task segmentation`.") from None
    except OSError as error:
        raise CellwrightError(str(file), f"The recipe cannot be read ({error.strerror}).",
                              "Check the file permissions.") from None
    if len(raw) > MAX_FILE_BYTES:
        size = file.stat().st_size if file.is_file() else 0
        size_text = f"{size} bytes" if size > MAX_FILE_BYTES else f"more than {MAX_FILE_BYTES} bytes"
        raise RecipeError([too_large_problem(str(file), size_text)], source=str(file))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CellwrightError(str(file), "This file is not a text (UTF-8) file, so it cannot be a recipe.",
                              "Give the path of a .yaml recipe.") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # the newlines Path.read_text would give


def load_recipe(path: str | os.PathLike[str]) -> Recipe:
    """Load and validate a recipe file; raise :class:`RecipeError` with every problem if it has errors."""
    recipe, problems = validate_file(path)
    if recipe is None:
        raise RecipeError([p for p in problems if p.severity == "error"], source=str(path))
    return recipe


def recipe_from_dict(data: dict[str, Any], source: str = "recipe") -> Recipe:
    """Validate a recipe given as a dictionary (e.g. from the GUI); raise :class:`RecipeError` on errors."""
    recipe, problems = validate_text(dump_yaml(data), source=source)
    if recipe is None:
        raise RecipeError([p for p in problems if p.severity == "error"], source=source)
    return recipe


def dump_recipe(recipe: Recipe, *, full: bool = False) -> str:
    """Write ``recipe`` as YAML.

    With ``full=False`` only the keys the user set are written, in the user's key order. With ``full=True``
    every default is filled in (what ``cellwright explain`` shows).
    """
    data = recipe.model_dump(mode="json", exclude_unset=not full, exclude_none=False)
    if not full:
        data = {"cellwright": CURRENT_VERSION, **data}
    if recipe._raw is not None:
        data = reorder_like(data, recipe._raw)
    return dump_yaml(data)


def save_recipe(recipe: Recipe, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``recipe`` to ``path`` atomically; refuse to replace an existing file unless ``overwrite``."""
    return write_text_atomic(Path(path), dump_recipe(recipe), overwrite=overwrite)


def write_text_atomic(path: Path, text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` via a temporary file and a rename, so a crash never leaves half a file."""
    if path.exists() and not overwrite:
        raise CellwrightError(str(path), "A file with this name already exists and was left untouched.",
                              "Choose another file name, or pass --force to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _key_tuple(dotted: str) -> tuple[Any, ...]:
    return tuple(int(index) if index else name for name, index in _PATH_PART.findall(dotted))


def _locate(problems: list[Problem], located: LocatedYaml, source: str) -> list[Problem]:
    """Give cross-field problems (which know only their key) a file:line:column."""
    for problem in problems:
        if problem.line is None and problem.key:
            position = located.position(_key_tuple(problem.key))
            problem.file = source
            if position:
                problem.line, problem.column = position
            problem.where = ""  # written from the parts: file:line:column key (node, port, parameter)
    return problems

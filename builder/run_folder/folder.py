"""One run folder: the paths of everything a run holds, with typed readers and atomic writers.

Every other module reads and writes runs through :class:`RunFolder`; the file names live in
:mod:`builder.run_folder.files`. Readers return None for an absent optional file; a file that exists but
cannot be read is a :class:`~builder.errors.CellwrightError` (or, through :meth:`RunFolder.read_json_or_note`,
a note the report shows instead of the section).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.errors import CellwrightError, TrainingError
from builder.io_utils import atomic_write_json, atomic_write_text, atomic_write_with
from builder.run_folder import files
from builder.run_folder.files import RunFile
from builder.run_folder.records import DataInfo, NormalizationRecord, OriginRecord

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: Patterns of the temporary files :mod:`builder.io_utils` writes before renaming them into place.
TEMP_PATTERNS = (".*.tmp", ".*.tmp.*")


@dataclass(frozen=True)
class RunFolder:
    """Paths inside one run folder, and the readers and writers of its files (the folder may not exist yet)."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def name(self) -> str:
        return self.path.name

    def file(self, spec: RunFile) -> Path:
        """Where ``spec`` lives in this run folder."""
        return self.path / spec.name

    # -- paths -----------------------------------------------------------------------------------------------
    recipe_path = property(lambda self: self.file(files.RECIPE))
    split_path = property(lambda self: self.file(files.SPLIT))
    environment_path = property(lambda self: self.file(files.ENVIRONMENT))
    events_path = property(lambda self: self.file(files.EVENTS))
    history_csv = property(lambda self: self.file(files.HISTORY_CSV))
    history_json = property(lambda self: self.file(files.HISTORY_JSON))
    state_path = property(lambda self: self.file(files.STATE))
    metrics_path = property(lambda self: self.file(files.METRICS))
    normalization_path = property(lambda self: self.file(files.NORMALIZATION))
    origin_path = property(lambda self: self.file(files.ORIGIN))
    data_info_path = property(lambda self: self.file(files.DATA_INFO))
    model_summary_path = property(lambda self: self.file(files.MODEL_SUMMARY))
    data_check_path = property(lambda self: self.file(files.DATA_CHECK))
    postprocess_path = property(lambda self: self.file(files.POSTPROCESS))
    test_input_path = property(lambda self: self.file(files.TEST_INPUT))
    raw_test_input_path = property(lambda self: self.file(files.RAW_TEST_INPUT))
    model_png_path = property(lambda self: self.file(files.MODEL_PNG))
    checkpoints_dir = property(lambda self: self.file(files.CHECKPOINTS))
    exports_dir = property(lambda self: self.file(files.EXPORTS))
    evaluation_dir = property(lambda self: self.file(files.EVALUATION))
    evaluations_dir = property(lambda self: self.file(files.EVALUATIONS))
    predictions_dir = property(lambda self: self.file(files.PREDICTIONS))

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints_dir / files.BEST_CHECKPOINT.name

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints_dir / files.LAST_CHECKPOINT.name

    def model_checkpoint(self) -> Path | None:
        """The model to use: ``best.keras``, else ``last.keras``; None before the first epoch ended."""
        return next((p for p in (self.best_checkpoint, self.last_checkpoint) if p.is_file()), None)

    def require_model_checkpoint(self) -> Path:
        """:meth:`model_checkpoint`, or a :class:`TrainingError` saying how to get one."""
        path = self.model_checkpoint()
        if path is None:
            raise TrainingError(
                str(self.path),
                f"This run has no checkpoint ({files.CHECKPOINTS.name}/{files.BEST_CHECKPOINT.name} or "
                f"{files.LAST_CHECKPOINT.name}).",
                "Let training finish at least one epoch, or resume it: cellwright train --resume.")
        return path

    def report_path(self, fmt: str) -> Path:
        """``report.html`` or ``report.pdf`` (``fmt`` is ``"html"`` or ``"pdf"``)."""
        return self.file(files.REPORTS[fmt])

    def existing_report(self) -> Path | None:
        """The report this run has (HTML first), or None."""
        return next((p for p in map(self.report_path, files.REPORTS) if p.is_file()), None)

    # -- generic JSON ----------------------------------------------------------------------------------------
    def read_json(self, spec: RunFile) -> Any:
        """Contents of the JSON file ``spec``; None when absent.

        Raises
        ------
        CellwrightError
            When the file is not valid JSON or its top-level value is not a ``spec.kind``.
        """
        value, note = self.read_json_or_note(spec)
        if note is not None and self.file(spec).is_file():
            raise CellwrightError(str(self.file(spec)), note,
                                  f"Restore {spec.name} from a copy of the run, or delete it to do without "
                                  f"{spec.what}.")
        return value

    def read_json_or_note(self, spec: RunFile) -> tuple[Any, str | None]:
        """``(value, None)``, or ``(None, note)`` saying why ``spec`` could not be used (absent, broken, wrong type)."""
        path = self.file(spec)
        if not path.is_file():
            return None, f"{spec.name} is missing from the run folder, so {spec.what} is not shown."
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            return None, (f"{spec.name} could not be read ({error.__class__.__name__}: {error.msg}, line "
                          f"{error.lineno}); its section is left out.")
        except (OSError, UnicodeDecodeError) as error:
            return None, f"{spec.name} could not be read ({error.__class__.__name__}); its section is left out."
        if spec.kind is not None and not isinstance(data, spec.kind):
            return None, (f"{spec.name} holds a {type(data).__name__}, expected a {spec.kind.__name__}; "
                          "it is left out.")
        return data, None

    def write_json(self, spec: RunFile, value: Any) -> Path:
        """Write ``value`` as the JSON file ``spec``, atomically."""
        if spec.kind is not None and not isinstance(value, spec.kind):
            raise TypeError(f"Invalid value received for argument `value`. Expected a {spec.kind.__name__} for "
                            f"{spec.name}. Received: value of type {type(value).__name__}")
        return atomic_write_json(self.file(spec), value)

    # -- recipe ----------------------------------------------------------------------------------------------
    def write_recipe(self, recipe: Recipe | Mapping[str, Any]) -> Path:
        """Write the resolved recipe (every default filled) as YAML; ``recipe`` is a pydantic model or a dict."""
        import yaml

        data = recipe.model_dump(mode="json") if hasattr(recipe, "model_dump") else dict(recipe)
        return atomic_write_text(self.recipe_path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))

    def require_recipe_file(self) -> Path:
        """``recipe.yaml``, or a :class:`TrainingError` when the run has none."""
        if not self.recipe_path.is_file():
            raise TrainingError(str(self.path), f"There is no {files.RECIPE.name} here, so the model's task and "
                                "normalisation are unknown.", "Pass a run folder written by 'cellwright train' "
                                f"(it has {files.RECIPE.name}).")
        return self.recipe_path

    def read_recipe(self) -> Recipe:
        """The run's :class:`~builder.recipe.Recipe`; relative data paths start at the original recipe's folder."""
        from builder.recipe import load_recipe

        recipe = load_recipe(self.require_recipe_file())
        origin = self.read_origin()
        if origin is not None:
            recipe._source_path = origin.base_dir / files.RECIPE.name
        return recipe

    def read_recipe_data(self) -> dict[str, Any]:
        """The run's recipe as a plain mapping (no validation, for exports of older runs)."""
        import yaml

        path = self.require_recipe_file()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise CellwrightError(str(path), f"The recipe is not valid YAML ({error.__class__.__name__}).",
                                  "Restore the run's recipe from a copy.") from error
        if not isinstance(data, dict):
            raise CellwrightError(str(path), f"Expected a recipe (a YAML mapping). Received: {type(data).__name__}.",
                                  "Restore the run's recipe from a copy.")
        return data

    # -- typed files -----------------------------------------------------------------------------------------
    def write_split(self, split: dict[str, Any]) -> Path:
        """Write the data split (e.g. ``{"train": [...], "validation": [...], "test": [...]}``)."""
        return self.write_json(files.SPLIT, split)

    def read_split(self) -> dict[str, Any] | None:
        return self.read_json(files.SPLIT)

    def write_environment(self, environment: dict[str, Any]) -> Path:
        """Write versions and devices (see :func:`builder.training.run_folder.collect_environment`)."""
        return self.write_json(files.ENVIRONMENT, environment)

    def write_normalization(self, record: NormalizationRecord) -> Path:
        return self.write_json(files.NORMALIZATION, record.to_dict())

    def read_normalization(self) -> NormalizationRecord | None:
        data = self.read_json(files.NORMALIZATION)
        return NormalizationRecord.from_dict(data) if data is not None else None

    def write_origin(self, base_dir: str | Path) -> Path:
        return self.write_json(files.ORIGIN, OriginRecord(Path(base_dir)).to_dict())

    def read_origin(self) -> OriginRecord | None:
        data = self.read_json(files.ORIGIN)
        return OriginRecord.from_dict(data) if data is not None else None

    def write_data_info(self, info: dict[str, Any]) -> Path:
        return self.write_json(files.DATA_INFO, dict(info))

    def read_data_info(self) -> DataInfo | None:
        data = self.read_json(files.DATA_INFO)
        return DataInfo(data) if data is not None else None

    def write_model_summary(self, summary: dict[str, Any]) -> Path:
        return self.write_json(files.MODEL_SUMMARY, summary)

    def write_data_check(self, findings: list[dict[str, Any]]) -> Path:
        return self.write_json(files.DATA_CHECK, findings)

    def write_metrics(self, metrics: dict[str, Any]) -> Path:
        return self.write_json(files.METRICS, metrics)

    def read_metrics(self) -> dict[str, Any] | None:
        return self.read_json(files.METRICS)

    def write_postprocess(self, tuning: dict[str, Any]) -> Path:
        return self.write_json(files.POSTPROCESS, tuning)

    def read_postprocess(self) -> dict[str, Any] | None:
        return self.read_json(files.POSTPROCESS)

    def write_test_input(self, x: Any) -> Path:
        """Save one normalised patch (``B,Y,X,C`` float32) that exports are checked on."""
        import numpy as np

        return atomic_write_with(self.test_input_path, lambda tmp: np.save(tmp, np.asarray(x), allow_pickle=False),
                                 suffix=".npy")

    def read_test_input(self) -> Any:
        """The saved test patch, or None."""
        import numpy as np

        return np.load(self.test_input_path, allow_pickle=False) if self.test_input_path.is_file() else None

    def write_raw_test_input(self, x: Any) -> Path:
        """Save one raw validation image (``B,Y,X,C`` float32, resampled but not normalised) for exports."""
        import numpy as np

        return atomic_write_with(self.raw_test_input_path,
                                 lambda tmp: np.save(tmp, np.asarray(x, np.float32), allow_pickle=False), suffix=".npy")

    def read_raw_test_input(self) -> Any:
        """The saved raw test image, or None (runs trained before it was saved)."""
        import numpy as np

        path = self.raw_test_input_path
        return np.load(path, allow_pickle=False) if path.is_file() else None

    # -- training progress -----------------------------------------------------------------------------------
    def write_state(self, state: dict[str, Any]) -> Path:
        """Write ``state.json``. Call it last in an epoch: a run resumes from whatever it names."""
        return self.write_json(files.STATE, state)

    def read_state(self) -> dict[str, Any]:
        """Read ``state.json``; raise a :class:`TrainingError` saying how to continue when it is missing."""
        state = self.read_json(files.STATE)
        if state is None:
            raise TrainingError(
                where=str(self.path),
                what=f"This run folder has no {files.STATE.name}, so no finished epoch to resume from.",
                fix="Start a new run with 'cellwright train RECIPE' (the run stopped before its first epoch ended).",
            )
        return state

    def read_history(self) -> list[dict[str, Any]]:
        """One dict per finished epoch (``history.json``, else ``history.csv``); empty when neither exists."""
        rows = self.read_json(files.HISTORY_JSON)
        if rows is not None:
            return [r for r in rows if isinstance(r, dict)]
        return self.read_history_csv() or []

    def read_history_csv(self) -> list[dict[str, Any]] | None:
        """``history.csv`` as rows of numbers; None when absent or unreadable."""
        if not self.history_csv.is_file():
            return None
        try:
            with open(self.history_csv, newline="", encoding="utf-8") as stream:
                return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(stream)]
        except (OSError, csv.Error, UnicodeDecodeError):
            return None

    def read_events(self) -> list[dict[str, Any]]:
        """The run's events (start, epoch, done, ...) without the many per-batch ones; unreadable lines skipped."""
        if not self.events_path.is_file():
            return []
        out = []
        try:
            with open(self.events_path, encoding="utf-8") as stream:
                for line in stream:
                    if '"event": "batch"' in line or not line.strip():
                        continue
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(event, dict) and event.get("event") != "batch":
                        out.append(event)
        except (OSError, UnicodeDecodeError):
            return out
        return out

    def clean_stale_temp_files(self) -> list[Path]:
        """Delete temporary files a killed writer left behind (run folder and ``checkpoints/``); return them."""
        removed = []
        for folder in (self.path, self.checkpoints_dir):
            if not folder.is_dir():
                continue
            for pattern in TEMP_PATTERNS:
                for stale in folder.glob(pattern):
                    if stale.is_file():
                        stale.unlink(missing_ok=True)
                        removed.append(stale)
        return removed


def _number(value: str | None) -> Any:
    try:
        return float(value) if value not in (None, "") else float("nan")
    except ValueError:
        return value

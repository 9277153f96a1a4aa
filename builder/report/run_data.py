"""Read a run folder for the report, tolerating missing or broken files (each gives a note instead of a crash)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import CellwrightError


@dataclass
class EvalSample:
    """One test image's saved evaluation: ``image``, ``truth``, ``prediction``, ``score`` (+ ``probabilities``)."""

    name: str
    arrays: dict[str, Any]

    @property
    def score(self) -> float:
        try:
            return float(self.arrays.get("score", float("nan")))
        except (TypeError, ValueError):
            return float("nan")


@dataclass
class RunData:
    """Everything the report reads from one run folder; absent parts are ``None`` or empty."""

    path: Path
    recipe: dict[str, Any] | None = None
    recipe_text: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    split: dict[str, Any] | None = None
    data_check: list[dict[str, Any]] | None = None
    model_summary: dict[str, Any] | None = None
    model_png: bytes | None = None
    state: dict[str, Any] | None = None
    postprocess: dict[str, Any] | None = None  # postprocess.json (tuned thresholds and how they were tuned)
    origin: dict[str, Any] | None = None  # origin.json (the recipe's folder, for relative data roots)
    events: list[dict[str, Any]] = field(default_factory=list)  # events.jsonl without the per-batch events
    evaluation: list[EvalSample] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # file name -> why it is not in the report

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def task(self) -> str:
        return str((self.metrics or {}).get("task") or (self.recipe or {}).get("task") or "unknown")

    def get(self, dotted: str, default: Any = None) -> Any:
        """Recipe value at ``dotted`` (e.g. ``"train.optimizer.name"``), or ``default`` when absent."""
        node: Any = self.recipe or {}
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return default if node is None else node

    def class_names(self) -> list[str]:
        names = (self.metrics or {}).get("class_names") or self.get("data.classes") or []
        return [str(n) for n in names]

    def series(self, key: str) -> list[float]:
        """One history column as floats (``nan`` where an epoch lacks it)."""
        out = []
        for row in self.history:
            try:
                out.append(float(row.get(key, "nan")))
            except (TypeError, ValueError):
                out.append(float("nan"))
        return out


def load_run(run_dir: str | Path, *, max_samples: int = 50) -> RunData:
    """Read ``run_dir``; raise :class:`CellwrightError` only when it is not a folder at all.

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by ``cellwright train``.
    max_samples : int
        Most evaluation samples (``evaluation/*.npz``) read.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise CellwrightError(str(path), "This run folder does not exist.",
                              "Pass a folder under runs/ that 'cellwright train' created.")
    run = RunData(path=path)
    run.recipe_text = _read_text(run, "recipe.yaml")
    if run.recipe_text is not None:
        import yaml

        try:
            loaded = yaml.safe_load(run.recipe_text)
            run.recipe = loaded if isinstance(loaded, dict) else None
        except yaml.YAMLError as error:
            run.notes["recipe.yaml"] = f"recipe.yaml could not be read as YAML ({error.__class__.__name__})."
    run.history = _read_history(run)
    run.metrics = _read_json(run, "metrics.json", dict)
    run.environment = _read_json(run, "environment.json", dict)
    run.split = _read_json(run, "split.json", dict)
    run.data_check = _read_json(run, "data_check.json", list)
    run.model_summary = _read_json(run, "model_summary.json", dict)
    run.state = _read_json(run, "state.json", dict, optional=True)
    run.postprocess = _read_json(run, "postprocess.json", dict, optional=True)
    run.origin = _read_json(run, "origin.json", dict, optional=True)
    run.events = _read_events(path / "events.jsonl")
    png = path / "model.png"
    run.model_png = png.read_bytes() if png.is_file() else None
    run.evaluation = _read_evaluation(run, max_samples)
    return run


_DESCRIPTIONS = {
    "recipe.yaml": "the resolved recipe",
    "history.json": "the training history",
    "metrics.json": "the test-set evaluation",
    "environment.json": "software versions and device",
    "split.json": "the data split",
    "data_check.json": "the data check findings",
    "model_summary.json": "the model summary",
    "evaluation": "the saved test predictions",
}


def _missing(run: RunData, name: str) -> None:
    what = _DESCRIPTIONS.get(name, name)
    run.notes[name] = f"{name} is missing from the run folder, so {what} is not shown."


def _read_text(run: RunData, name: str) -> str | None:
    file = run.path / name
    if not file.is_file():
        _missing(run, name)
        return None
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        run.notes[name] = f"{name} could not be read ({error.__class__.__name__})."
        return None


def _read_json(run: RunData, name: str, kind: type, *, optional: bool = False) -> Any:
    file = run.path / name
    if not file.is_file():
        if not optional:
            _missing(run, name)
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        run.notes[name] = f"{name} could not be read ({error.__class__.__name__}); its section is left out."
        return None
    if not isinstance(data, kind):
        run.notes[name] = f"{name} holds a {type(data).__name__}, expected a {kind.__name__}; it is left out."
        return None
    return data


def _read_history(run: RunData) -> list[dict[str, Any]]:
    rows = _read_json(run, "history.json", list, optional=True)
    if rows is not None:
        return [r for r in rows if isinstance(r, dict)]
    file = run.path / "history.csv"
    if file.is_file():
        try:
            with open(file, newline="", encoding="utf-8") as stream:
                return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(stream)]
        except (OSError, csv.Error, UnicodeDecodeError):
            run.notes["history.csv"] = "history.csv could not be read; training curves are not shown."
            return []
    _missing(run, "history.json")
    return []


def _number(value: str | None) -> Any:
    try:
        return float(value) if value not in (None, "") else float("nan")
    except ValueError:
        return value


def _read_evaluation(run: RunData, max_samples: int) -> list[EvalSample]:
    import numpy as np

    folder = run.path / "evaluation"
    if not folder.is_dir():
        _missing(run, "evaluation")
        return []
    samples = []
    broken = []
    for file in sorted(folder.glob("*.npz"))[:max_samples]:
        try:
            with np.load(file, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except Exception:  # a damaged file must not stop the report
            broken.append(file.name)
            continue
        if "image" in arrays:
            samples.append(EvalSample(file.stem, arrays))
        else:
            broken.append(file.name)
    if broken:
        run.notes["evaluation"] = f"{len(broken)} file(s) in evaluation/ could not be read: {', '.join(broken[:5])}."
    return samples


def _read_events(file: Path) -> list[dict[str, Any]]:
    """The run's events (start, epoch, done, ...) without the many per-batch ones; unreadable lines skipped."""
    if not file.is_file():
        return []
    out = []
    try:
        with open(file, encoding="utf-8") as stream:
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

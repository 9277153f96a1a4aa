"""Read a run folder for the report, tolerating missing or broken files (each gives a note instead of a crash)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import CellwrightError
from builder.run_folder import RunFile, RunFolder, files


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
    postprocess: dict[str, Any] | None = None  # tuned thresholds and how they were tuned
    origin: dict[str, Any] | None = None  # the recipe's folder, for relative data roots
    normalization: dict[str, Any] | None = None  # normalization.json: statistics and the object scale used
    events: list[dict[str, Any]] = field(default_factory=list)  # the run's events without the per-batch ones
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
    folder = RunFolder(path)
    run.recipe_text = _read_text(run, folder, files.RECIPE)
    if run.recipe_text is not None:
        import yaml

        try:
            loaded = yaml.safe_load(run.recipe_text)
            run.recipe = loaded if isinstance(loaded, dict) else None
        except yaml.YAMLError as error:
            run.notes[files.RECIPE.name] = (f"{files.RECIPE.name} could not be read as YAML "
                                            f"({error.__class__.__name__}).")
    run.history = _read_history(run, folder)
    run.metrics = _read_json(run, folder, files.METRICS)
    run.environment = _read_json(run, folder, files.ENVIRONMENT)
    run.split = _read_json(run, folder, files.SPLIT)
    run.data_check = _read_json(run, folder, files.DATA_CHECK)
    run.model_summary = _read_json(run, folder, files.MODEL_SUMMARY)
    run.state = _read_json(run, folder, files.STATE, optional=True)
    run.postprocess = _read_json(run, folder, files.POSTPROCESS, optional=True)
    run.origin = _read_json(run, folder, files.ORIGIN, optional=True)
    run.normalization = _read_json(run, folder, files.NORMALIZATION, optional=True)
    run.events = folder.read_events()
    png = folder.model_png_path
    run.model_png = png.read_bytes() if png.is_file() else None
    run.evaluation = _read_evaluation(run, folder, max_samples)
    return run


def _missing(run: RunData, spec: RunFile) -> None:
    run.notes[spec.name] = f"{spec.name} is missing from the run folder, so {spec.what} is not shown."


def _read_text(run: RunData, folder: RunFolder, spec: RunFile) -> str | None:
    file = folder.file(spec)
    if not file.is_file():
        _missing(run, spec)
        return None
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        run.notes[spec.name] = f"{spec.name} could not be read ({error.__class__.__name__})."
        return None


def _read_json(run: RunData, folder: RunFolder, spec: RunFile, *, optional: bool = False) -> Any:
    value, note = folder.read_json_or_note(spec)
    if note is not None and (folder.file(spec).is_file() or not optional):
        run.notes[spec.name] = note
    return value


def _read_history(run: RunData, folder: RunFolder) -> list[dict[str, Any]]:
    rows = _read_json(run, folder, files.HISTORY_JSON, optional=True)
    if rows is not None:
        return [r for r in rows if isinstance(r, dict)]
    if folder.history_csv.is_file():
        table = folder.read_history_csv()
        if table is None:
            run.notes[files.HISTORY_CSV.name] = (f"{files.HISTORY_CSV.name} could not be read; training curves "
                                                 "are not shown.")
        return table or []
    _missing(run, files.HISTORY_JSON)
    return []


def _read_evaluation(run: RunData, run_folder: RunFolder, max_samples: int) -> list[EvalSample]:
    import numpy as np

    folder = run_folder.evaluation_dir
    if not folder.is_dir():
        _missing(run, files.EVALUATION)
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
        run.notes[files.EVALUATION.name] = (f"{len(broken)} file(s) in {folder.name}/ could not be read: "
                                            f"{', '.join(broken[:5])}.")
    return samples

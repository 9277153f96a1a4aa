"""``cellwright train``: the whole job for one recipe.

data check -> datasets (patches, augmentation, task targets) -> model -> fit (checkpoints, events) ->
evaluation on the test split -> report -> exports. Each step writes into the run folder, so a run that stops
at any point leaves everything done so far, and ``--resume`` continues from the last checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from builder.errors import DataError, Problem, TrainingError
from builder.events import EventSink, make_event
from builder.recipe import Recipe, load_recipe
from builder.run_folder import RunFolder
from builder.workflow.stages import (
    finished_stages,
    hold_out_test,
    mark_finished,
    test_held_out,
    training_finished,
)

#: Largest number of validation/test images kept as arrays for the report.
MAX_EVALUATION_IMAGES = 50


@dataclass
class TrainOutcome:
    """What a finished (or resumed and finished) training job produced."""

    run_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    reports: list[Path] = field(default_factory=list)
    exports: list[dict[str, Any]] = field(default_factory=list)
    epochs_completed: int = 0
    test_held_out: bool = False


def _emit(events: EventSink | None, event: str, /, **payload: Any) -> None:
    if events is not None:
        events(make_event(event, **payload))


def split_record(dataset: Any, *, max_checksums: int = 5000) -> dict[str, Any]:
    """``split.json``: image names per split, every sample, and SHA-256 checksums of the data files.

    Checksums let a reader of the report verify that the same files were used; for very large data sets only
    the first ``max_checksums`` files are hashed (the record says so).
    """
    import hashlib

    record = dataset.to_split_json()
    files: dict[str, str] = {}
    root = Path(dataset.root)
    for split, samples in dataset.splits.items():
        record[split] = [Path(s.image_path).name for s in samples]
        for sample in samples:
            for path in (sample.image_path, getattr(sample, "mask_path", None), getattr(sample, "target_path", None)):
                if path is None or len(files) >= max_checksums:
                    continue
                path = Path(path)
                key = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
                if key not in files and path.is_file():  # frames of one time-lapse file share it
                    files[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    record["files"] = files
    record["checksums_complete"] = len(files) < max_checksums
    return record


def check_data_or_refuse(recipe: Recipe, dataset: Any, run_dir: Path, events: EventSink | None) -> list[Problem]:
    """Run the data doctor, record its findings in the run folder, refuse to train on errors."""
    from builder.data.doctor import check_dataset

    problems = check_dataset(recipe, recipe.base_dir, dataset=dataset)
    RunFolder(run_dir).write_data_check([p.to_dict() for p in problems])
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        if problem.severity == "warning":
            _emit(events, "warning", where=problem.where, what=problem.what, fix=problem.fix,
                  message=f"{problem.where}: {problem.what}")
    if errors:
        listing = "\n".join("  " + p.format().replace("\n", "\n  ") for p in errors)
        raise DataError(
            where=str(dataset.root),
            what=f"The data check found {len(errors)} problem(s), so training did not start:\n{listing}",
            fix="Fix the files named above (run `cellwright check RECIPE` to see every finding), then train again.",
        )
    return problems


def train_recipe(
    recipe: Recipe | str | Path,
    *,
    runs_dir: str | Path | None = None,
    resume: str | Path | None = None,
    events: EventSink | None = None,
    evaluate: bool = True,
    report: bool = True,
    export: bool = True,
    init_from: str | Path | None = None,
    no_test: bool = False,
) -> TrainOutcome:
    """Train the model a recipe describes, then evaluate, report and export as the recipe says.

    Parameters
    ----------
    recipe : Recipe or path
        The recipe (ignored when ``resume`` is given: the run's own resolved recipe is used).
    runs_dir : path, optional
        Parent of the run folder (default: ``runs/`` next to the recipe file).
    resume : path, optional
        A run folder to continue from its last checkpoint, with the same split and schedule.
        (``runs_dir`` defaults to ``runs/`` in the current folder.)
    events : callable, optional
        Receives JSON-able event dicts (start, epoch, batch, warning, artifact, done, error).
    init_from : path, optional
        A ``.keras`` model (e.g. a run's ``checkpoints/best.keras``) whose weights the new model starts from
        (fine-tuning; see ``cellwright retrain``). Its architecture must be the recipe's.
    no_test : bool
        Keep the test images out: they are neither read nor scored (post-processing is tuned on the validation
        images); ``cellwright evaluate RUN`` scores them later. A resumed run keeps the choice it was started with.
    """
    from builder.data.layouts import discover
    from builder.tasks.registry import get_task
    from builder.training.leftovers import clean_run_folder
    from builder.training.run_folder import create_run_folder, open_run_folder

    state = None
    if resume is not None:
        run = open_run_folder(resume)
        recipe = run.read_recipe()
        state = run.read_state() if run.state_path.is_file() else None
        clean_run_folder(run.path, state)
        no_test = no_test or test_held_out(run.path)
    elif not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    if resume is None and init_from is not None:  # `train --init-from` / retrain: recorded like the recipe key
        recipe = _with_init_from(recipe, init_from)
    init_from = _init_from_model(recipe, init_from)
    if resume is None and recipe.model.from_:
        from builder.workflow.segmenter import with_segmenter

        recipe = with_segmenter(recipe)  # frames are treated the way the segmenter was trained
    wanted = [name for name, on in (("evaluate", evaluate), ("report", report and recipe.report.enabled),
                                    ("export", export and bool(recipe.export.formats))) if on]
    finished_state = state if training_finished(state, recipe.train.epochs) else None
    if finished_state is not None and recipe.train.pseudo_labels is not None:
        from builder.workflow.pseudo_labels import final_round_state

        finished_state = finished_state if final_round_state(run.path) else None  # else: the teacher's state
    fit_done = finished_state is not None
    pending = [name for name in wanted if name not in finished_stages(run.path)] if fit_done else wanted
    if finished_state is not None and not pending:
        raise TrainingError(
            where=str(run.path),
            what=f"This run already finished: {finished_state['epoch']} of {recipe.train.epochs} epochs"
            + (" (stopped early)" if finished_state.get("stop_training") else "")
            + (", then " + ", ".join(wanted) if wanted else "") + ". There is nothing left to resume.",
            fix="Start a new run with 'cellwright train RECIPE', or increase train.epochs in the run's "
            "recipe.yaml to train longer.")
    task = get_task(recipe.task)
    task.check_trainable()
    if resume is None and recipe.pretrain is not None:
        from builder.workflow.pretrain_job import ensure_encoder

        ensure_encoder(recipe, events)  # before the model is built: its backbone starts from this file
    dataset = discover(recipe, recipe.base_dir)
    if resume is None:
        parent = Path(runs_dir) if runs_dir else Path.cwd() / "runs"
        run = create_run_folder(parent, recipe.name, recipe=recipe, split=split_record(dataset))
        _emit(events, "log", message=f"Run folder: {run.path}")
        _write_annotation_record(run.path, dataset)
        if no_test:
            hold_out_test(run.path)
    if no_test:
        held = len(dataset.splits.get("test") or [])
        _emit(events, "log", message=f"Test images held out (--no-test): {held} image(s), not read; score them "
              f"later with: cellwright evaluate {run.path}")
        dataset = replace(dataset, splits={**dataset.splits, "test": []})
    check_data_or_refuse(recipe, dataset, run.path, events)

    from builder.workflow.fit_job import fit_recipe, load_fitted

    if finished_state is not None:
        _emit(events, "log", message=f"Training had finished; resuming with: {', '.join(pending)}")
        fitted = load_fitted(recipe, run, finished_state)
    elif recipe.train.pseudo_labels is not None:
        from builder.workflow.pseudo_labels import fit_with_pseudo_labels

        fitted = fit_with_pseudo_labels(recipe, dataset, run, events=events, resume=resume is not None,
                                        init_from=init_from)
    else:
        fitted = fit_recipe(recipe, dataset, run, events=events, resume=resume is not None, init_from=init_from)
    task.fit_companions(recipe, dataset, run.path, events)  # e.g. a learned link scorer, saved with the run
    _write_onnx_copy(recipe, run.path, fitted, events)
    outcome = TrainOutcome(run_dir=run.path, epochs_completed=fitted.epochs_completed, test_held_out=no_test)
    if "evaluate" in pending:
        outcome.metrics = _evaluate(recipe, dataset, run.path, fitted, events, held_out=no_test)
        mark_finished(run.path, "evaluate")
    elif run.metrics_path.is_file():
        outcome.metrics = json.loads(run.metrics_path.read_text(encoding="utf-8"))
    if "report" in pending:
        outcome.reports = _report(recipe, run.path, events)
        mark_finished(run.path, "report")
    if "export" in pending:
        outcome.exports = _export(recipe, run.path, fitted, events)
        mark_finished(run.path, "export")
    _emit(events, "done", stage="job", run=str(run.path), metrics=outcome.metrics.get("headline"),
          reports=[str(p) for p in outcome.reports], exports=outcome.exports)
    return outcome


def _write_onnx_copy(recipe: Recipe, run_dir: Path, fitted: Any, events: EventSink | None) -> None:
    """The ONNX copy of the best checkpoint, so ``predict`` starts without TensorFlow
    (:mod:`builder.workflow.onnx_cache`; a network that cannot be converted is said once and predicted with Keras)."""
    from builder.workflow.onnx_cache import ensure_copy

    ensure_copy(run_dir, fitted.model, recipe=recipe, events=events)


def _with_init_from(recipe: Recipe, init_from: str | Path) -> Recipe:
    """``recipe`` with ``train.init_from`` set to ``init_from`` (absolute), so the run's recipe.yaml and its
    report say which model the weights came from."""
    path = Path(init_from).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    train = recipe.train.model_copy(update={"init_from": str(path.resolve())})
    updated = recipe.model_copy(update={"train": train})
    updated._source_path, updated._raw = recipe._source_path, recipe._raw
    return updated


def _init_from_model(recipe: Recipe, given: str | Path | None) -> Any:
    """What ``fit_recipe`` starts from: the ``.keras`` file (or opened bundle model) of ``train.init_from``."""
    if not recipe.train.init_from:
        return given
    from builder.workflow.init_weights import open_init_from

    return open_init_from(recipe.train.init_from, recipe.base_dir)[0]


def _write_annotation_record(run_dir: Path, dataset: Any) -> None:
    """``annotations.json``: how many (and which) annotations this model version learns from."""
    from builder.active_learning.versions import annotation_record
    from builder.run_folder import files

    RunFolder(run_dir).write_json(files.ANNOTATIONS, annotation_record(dataset))


def _evaluate(recipe: Recipe, dataset: Any, run_dir: Path, fitted: Any, events: EventSink | None, *,
              held_out: bool = False) -> dict:
    from builder.workflow.evaluate_job import evaluate_model

    test = dataset.splits.get("test") or []
    if not test:
        _tune_on_validation(recipe, dataset, run_dir, fitted, events)
        if held_out:
            _emit(events, "log", message="The test images were not scored (--no-test). Score them once, when the "
                  f"settings are final: cellwright evaluate {run_dir}")
            return {}
        what = "No test images, so the model was not evaluated."
        _emit(events, "warning", where="data.split.test", what=what, message=what,
              fix="Set data.split.test to a fraction such as 0.15, or add a test/ folder.")
        return {}
    from builder.workflow.model_source import run_companions

    _emit(events, "log", message=f"Evaluating on {len(test)} test image(s)...")
    return evaluate_model(  # its progress (tuning, then image i of n) and the test score go to ``events``
        fitted.model, recipe, test, norm_stats=fitted.normalization, out_dir=run_dir,
        tune_on=dataset.splits.get("validation") or None, class_names=fitted.info.get("classes") or None,
        events=events, companions=run_companions(run_dir, recipe),
    )


def _tune_on_validation(recipe: Recipe, dataset: Any, run_dir: Path, fitted: Any, events: EventSink | None) -> None:
    """Without test scoring, still tune the post-processing thresholds on the validation images (postprocess.json),
    so that ``predict`` and a later ``evaluate`` use them."""
    from builder.tasks.registry import get_task
    from builder.workflow.evaluate_job import finite, tune_postprocess
    from builder.workflow.inference import postprocess_settings

    validation = dataset.splits.get("validation") or []
    if not validation or not get_task(recipe.task).tunes_postprocess(recipe):
        return
    _emit(events, "log", message=f"Tuning post-processing on {len(validation)} validation image(s)...")
    tuning = tune_postprocess(fitted.model, recipe, validation, norm_stats=fitted.normalization,
                              start=postprocess_settings(recipe), events=events)
    RunFolder(run_dir).write_postprocess(finite(tuning))


def _report(recipe: Recipe, run_dir: Path, events: EventSink | None) -> list[Path]:
    try:
        from builder.report.build import build_report
    except ImportError:  # pragma: no cover - report package not installed in this build
        return []
    paths = build_report(run_dir, formats=tuple(recipe.report.formats))
    for path in paths:
        _emit(events, "artifact", kind="report", path=str(path))
    return paths


def _export(recipe: Recipe, run_dir: Path, fitted: Any, events: EventSink | None) -> list[dict[str, Any]]:
    from builder.workflow.export_job import export_run

    results = export_run(run_dir, formats=list(recipe.export.formats), model=fitted.model)
    for result in results:
        _emit(events, "artifact", kind="export", **{k: v for k, v in result.items() if k != "kind"})
    return results

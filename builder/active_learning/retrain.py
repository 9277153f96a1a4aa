"""``cellwright retrain RUN``: fine-tune the current model on the checked annotations, then let the guard decide.

1. The guard set: the data folder's ``guard`` images; the first retrain freezes the parent run's test images as
   the guard set (a person labelled them once) so later versions are judged on the same images.
2. A new run fine-tunes from the parent's best checkpoint with the parent's recipe on the annotations a person
   made or checked (proposed, unchecked annotations are left out; guard images are never trained on).
3. Both versions are scored on the guard images; the new one becomes current only if it is not worse.
   ``model_version.json`` in the new run and ``model_versions.csv`` next to the data record the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder.active_learning.guard import GuardDecision, guard_score, judge
from builder.active_learning.versions import add_version, annotation_record
from builder.annotation.checked import mark, names_with
from builder.errors import DataError
from builder.events import EventSink, make_event
from builder.run_folder import RunFolder, files


def _log(events: EventSink | None, message: str) -> None:
    if events is not None:
        events(make_event("log", message=message))


def ensure_guard_set(parent: RunFolder, root: Path, events: EventSink | None = None) -> list[str]:
    """The guard image names of ``root``; the first time, the parent run's test images become the guard set.

    Raises
    ------
    DataError
        There is no guard set and the parent run had no test images to make one from.
    """
    guard = names_with(root, "guard")
    if guard:
        return guard
    split = parent.read_split() or {}
    test = [Path(name).name for name in split.get("test") or []]
    if not test:
        raise DataError(str(root / "annotation_status.csv"), "Expected a guard set (images labelled once, used to "
                        "judge each new model version). Received: no guard rows, and the parent run had no test "
                        "images to use instead.", "Mark a few labelled images as guard "
                        "(cellwright annotations guard DATA_FOLDER IMAGE...), or set data.split.test above 0 "
                        "and train the first model again.")
    mark(root, test, "guard", by=parent.name)
    _log(events, f"Guard set: the {len(test)} test image(s) of {parent.name} (recorded in annotation_status.csv).")
    return sorted(test)


def _score(run_dir: Path, samples: list[Any]) -> tuple[str, float, bool]:
    from builder.workflow.model_source import open_model_source

    source = open_model_source(run_dir)
    return guard_score(source.model, source.recipe, samples, norm_stats=source.normalization,
                       postprocess=source.postprocess, class_names=source.class_names)


def retrain(run_dir: str | Path, *, epochs: int | None = None, learning_rate: float | None = None,
            runs_dir: str | Path | None = None, tolerance: float = 0.0,
            events: EventSink | None = None) -> dict[str, Any]:
    """Fine-tune the model of ``run_dir`` on the checked annotations and judge it on the guard set.

    Parameters
    ----------
    run_dir : str or Path
        The current model version's run folder.
    epochs, learning_rate : optional
        Override the parent recipe's ``train.epochs`` / ``train.optimizer.learning_rate`` for the fine-tuning.
    runs_dir : str or Path, optional
        Where the new run folder goes (default: next to the parent run).
    tolerance : float
        How much worse on the guard set the new version may be and still replace the current one.

    Returns
    -------
    dict
        ``run`` (new run folder), ``parent``, ``decision`` (:meth:`GuardDecision.to_dict`), ``current`` (the run
        to use now), ``annotations`` (the new run's ``annotations.json``).
    """
    from builder.data.layouts import discover
    from builder.training.run_folder import open_run_folder
    from builder.workflow.train_job import train_recipe

    parent = open_run_folder(run_dir)
    recipe = parent.read_recipe()
    if epochs is not None:
        recipe.train.schedule.warmup_epochs = min(recipe.train.schedule.warmup_epochs, max(0, int(epochs) - 1))
        recipe.train.epochs = int(epochs)
    if learning_rate is not None:
        recipe.train.optimizer.learning_rate = float(learning_rate)
    root = Path(discover(recipe, recipe.base_dir).root)
    guard_names = set(ensure_guard_set(parent, root, events))
    checkpoint = parent.best_checkpoint if parent.best_checkpoint.is_file() else parent.last_checkpoint
    outcome = train_recipe(recipe, runs_dir=runs_dir or parent.path.parent, events=events, report=False,
                           init_from=checkpoint)
    child = RunFolder(outcome.run_dir)
    dataset = discover(recipe, recipe.base_dir)
    guard = [s for s in dataset.splits.get("test", []) if Path(s.image_path).name in guard_names]
    metric, parent_score, higher = _score(parent.path, guard)
    _, new_score, _ = _score(child.path, guard)
    decision: GuardDecision = judge(parent_score, new_score, metric=metric, n_images=len(guard),
                                    higher_is_better=higher, tolerance=tolerance)
    _log(events, decision.sentence())
    record = annotation_record(dataset)
    parent_record = parent.read_json(files.ANNOTATIONS) or {}
    rows = add_version(root, {
        "run": str(child.path), "parent": str(parent.path), "n_annotations": record["n_annotations"],
        "annotations_sha256": record["sha256"], "guard_metric": metric, "guard_score": f"{new_score:.4f}",
        "parent_guard_score": f"{parent_score:.4f}", "accepted": decision.accepted,
        "parent_n_annotations": parent_record.get("n_annotations", ""),
        "parent_sha256": parent_record.get("sha256", ""),
    })
    current = next(r["run"] for r in rows if r["current"] == "yes")
    child.write_json(files.MODEL_VERSION, {"parent": str(parent.path), "decision": decision.to_dict(),
                                           "guard_images": sorted(guard_names), "versions": rows,
                                           "current": current})
    if recipe.report.enabled:
        from builder.report.build import build_report

        build_report(child.path, formats=tuple(recipe.report.formats))
    return {"run": str(child.path), "parent": str(parent.path), "decision": decision.to_dict(),
            "sentence": decision.sentence(), "current": current, "annotations": record}

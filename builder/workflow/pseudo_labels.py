"""Self-training with pseudo-labels (``train.pseudo_labels: {images: FOLDER, threshold: 0.9}``).

Round 1 trains on the labelled images as usual (the teacher). The teacher then classifies every unlabelled
image; those whose top class probability reaches the threshold join the training set with that class, and the
model is trained again from a fresh start on labelled + pseudo-labelled images (round 2, the model that is
evaluated, reported and exported). ``pseudo_labels.json`` in the run folder lists every image used, its class
and probability, and the teacher's training history; the report's Methods cites it.

Resuming: ``state.json`` is the fit loop's record of *one* round, so the record's ``round_2`` says whose it is:
``pending`` (written with the pseudo-labels, before round 2 began: a ``state.json`` there is the teacher's, and
round 2 starts fresh), ``started`` (round 2 has begun: ``state.json`` is round 2's and resumes it) or
``not_needed`` (no image was confident: the teacher is the final model). A run killed anywhere between the
rounds therefore never mistakes the finished teacher for the final model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from builder.events import EventSink, make_event
from builder.recipe import Recipe
from builder.run_folder import RunFolder, files


@dataclass(frozen=True)
class PseudoLabel:
    """One unlabelled image that joins training: its file, the class given to it, and the model's confidence."""

    path: str
    label: str
    probability: float


def select_confident(paths: list[Path], probabilities: np.ndarray, classes: list[str],
                     threshold: float) -> list[PseudoLabel]:
    """The images whose top class probability is at least ``threshold``, with that class.

    Parameters
    ----------
    paths : list of Path
        The unlabelled images, in the order of ``probabilities``.
    probabilities : (N, K) ndarray
        Class probabilities from the model, K = ``len(classes)``.
    classes : list of str
        Class names in model output order.
    threshold : float
        Lowest top-class probability kept, in (0, 1).

    Returns
    -------
    list of PseudoLabel
        In the order of ``paths``.

    Examples
    --------
    >>> select_confident([Path("a.tif"), Path("b.tif")], np.array([[0.95, 0.05], [0.6, 0.4]]), ["x", "y"], 0.9)
    [PseudoLabel(path='a.tif', label='x', probability=0.95)]
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape != (len(paths), len(classes)):
        raise ValueError(f"`probabilities` must have shape (n_images, n_classes) = ({len(paths)}, {len(classes)}). "
                         f"Received: probabilities.shape={p.shape}")
    best = p.argmax(axis=1)
    top = p[np.arange(len(p)), best]
    return [PseudoLabel(str(path), classes[int(k)], round(float(v), 6))
            for path, k, v in zip(paths, best, top, strict=True) if v >= threshold]


def predict_probabilities(model: Any, recipe: Recipe, paths: list[Path], norm_stats: Any,
                          events: EventSink | None = None) -> np.ndarray:
    """(N, K) class probabilities of the images at ``paths``, prepared exactly as evaluation prepares them."""
    from builder.data.readers import read_image
    from builder.workflow.inference import predict_image

    rows = []
    for i, path in enumerate(paths):
        image = read_image(path, channels=recipe.data.channels).array
        rows.append(np.asarray(predict_image(model, image, recipe, norm_stats=norm_stats)["output"]).reshape(-1))
        if events is not None:
            events(make_event("batch", phase="pseudo_labels", step=i + 1, total=len(paths)))
    return np.stack(rows) if rows else np.zeros((0, 0), np.float32)


def _images(recipe: Recipe) -> tuple[Path, list[Path]]:
    """The folder ``train.pseudo_labels.images`` (relative to the recipe) and its image files."""
    from builder.pretrain.images import find_images

    settings = recipe.train.pseudo_labels
    assert settings is not None  # only called for recipes that set it
    folder = Path(settings.images).expanduser()
    folder = folder if folder.is_absolute() else Path(recipe.base_dir or ".") / folder
    return folder, find_images(folder)


def _add_to_train(dataset: Any, chosen: list[dict[str, Any]]) -> None:
    from builder.data.layouts import Sample

    for row in chosen:
        path = Path(row["path"])
        dataset.splits["train"].append(Sample(path, label=row["label"], group=f"pseudo/{path.name}"))


#: ``round_2`` values of the record (see the module docstring).
ROUND_2_PENDING, ROUND_2_STARTED, ROUND_2_NOT_NEEDED = "pending", "started", "not_needed"


def final_round_state(run_dir: str | Path) -> bool:
    """True when the run folder's ``state.json`` belongs to the model that is kept (round 2, or a teacher that
    no image was confident enough to improve on); False while it can only be the teacher's (round 1)."""
    record = RunFolder(Path(run_dir)).read_json(files.PSEUDO_LABELS)
    if record is None:
        return False
    return record.get("round_2", ROUND_2_STARTED) in (ROUND_2_STARTED, ROUND_2_NOT_NEEDED)


def _start_round_2(recipe: Recipe, dataset: Any, run: Any, record: dict[str, Any], *,
                   events: EventSink | None, init_from: Any) -> Any:
    """Drop the teacher's fit state, note that round 2 began, and train round 2 from a fresh start."""
    from builder.workflow.fit_job import fit_recipe

    run.state_path.unlink(missing_ok=True)  # the teacher's: round 2 must not resume from it
    RunFolder(Path(run.path)).write_json(files.PSEUDO_LABELS, {**record, "round_2": ROUND_2_STARTED})
    return fit_recipe(recipe, dataset, run, events=events, resume=False, init_from=init_from)


def fit_with_pseudo_labels(recipe: Recipe, dataset: Any, run: Any, *, events: EventSink | None = None,
                           resume: bool = False, init_from: Any = None) -> Any:
    """Train a teacher, add its confident pseudo-labels to ``dataset``'s training split, train the final model.

    ``init_from`` (``train --init-from``) starts both rounds from that model's weights.

    Returns the :class:`~builder.workflow.fit_job.Fitted` of round 2 (of round 1 if no image was confident).
    """
    from builder.workflow.fit_job import fit_recipe

    settings = recipe.train.pseudo_labels
    assert settings is not None  # the caller checked
    folder_of_run = RunFolder(Path(run.path))
    record = folder_of_run.read_json(files.PSEUDO_LABELS) if resume else None
    if record is not None:  # round 1 had finished
        stage = record.get("round_2", ROUND_2_STARTED)  # records written before the field existed: started
        if stage == ROUND_2_NOT_NEEDED:
            return fit_recipe(recipe, dataset, run, events=events, resume=run.state_path.is_file(),
                              init_from=init_from)
        _add_to_train(dataset, record["used"])
        if stage == ROUND_2_PENDING:
            if events is not None:
                events(make_event("log", message="Resuming between the two pseudo-label rounds: round 2 starts now."))
            return _start_round_2(recipe, dataset, run, record, events=events, init_from=init_from)
        return fit_recipe(recipe, dataset, run, events=events, resume=run.state_path.is_file(), init_from=init_from)
    teacher = fit_recipe(recipe, dataset, run, events=events, resume=resume, init_from=init_from)
    folder, paths = _images(recipe)
    classes = list(teacher.info.get("classes") or [])
    probabilities = predict_probabilities(teacher.model, recipe, paths, teacher.normalization, events)
    chosen = select_confident(paths, probabilities, classes, settings.threshold)
    counts = {name: sum(1 for c in chosen if c.label == name) for name in classes}
    record = {"images": str(folder), "threshold": settings.threshold,
              "n_unlabelled": len(paths), "n_used": len(chosen), "per_class": counts,
              "n_labelled_train": len(dataset.splits["train"]), "used": [asdict(c) for c in chosen],
              "teacher": {"epochs_completed": teacher.epochs_completed, "history": teacher.history},
              "round_2": ROUND_2_PENDING if chosen else ROUND_2_NOT_NEEDED}
    folder_of_run.write_json(files.PSEUDO_LABELS, record)
    if events is not None:
        events(make_event("log", message=f"Pseudo-labels: {len(chosen)} of {len(paths)} unlabelled image(s) "
                          f"reached probability {settings.threshold} and join training ({counts})."))
    if not chosen:
        what = f"No unlabelled image reached train.pseudo_labels.threshold = {settings.threshold}."
        if events is not None:
            events(make_event("warning", where="train.pseudo_labels.threshold", what=what, message=what,
                              fix="Lower the threshold (e.g. 0.8) or label more images; the model of round 1 "
                              "is kept."))
        return teacher
    _add_to_train(dataset, record["used"])
    return _start_round_2(recipe, dataset, run, record, events=events, init_from=init_from)

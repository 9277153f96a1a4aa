"""A trained segmenter named in a tracking recipe (``model: {from: RUN_OR_BUNDLE}``): used instead of training.

The segmenter is an instance-segmentation (or tracking) model trained before: a run folder or a Cellwright bundle.
:func:`with_segmenter` gives the tracking recipe the segmenter's preprocessing, instance target and tuned
post-processing, so every frame is treated the way the segmenter was trained (and the run's own ``recipe.yaml``
says so). :func:`adopt_segmenter` then stands in for training: it copies the model into the run's checkpoints
with its normalisation, so evaluation, ``predict`` and export use it like a model trained in the run (frame by
frame, tiled as its preprocessing says), and only the linking is fitted (the learned link scorer, the tuned
post-processing on the validation frames).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.errors import CellwrightError

if TYPE_CHECKING:
    from builder.recipe import Recipe

def segmenter_path(recipe: Recipe) -> Path | None:
    """The segmenter ``model.from`` names (relative to the recipe's folder), or None."""
    name = recipe.model.from_
    if not name:
        return None
    path = Path(name).expanduser()
    return path if path.is_absolute() else Path(recipe.base_dir or ".") / path


def open_segmenter(recipe: Recipe) -> Any:
    """The :class:`~builder.workflow.model_source.ModelSource` of the recipe's segmenter (checked)."""
    from builder.workflow.model_source import open_model_source

    path = segmenter_path(recipe)
    if path is None:
        raise CellwrightError("model.from", "Expected the path of a trained segmenter. Received: nothing.",
                              "Set model.from to a run folder or a Cellwright bundle .zip.")
    if not path.exists():
        raise CellwrightError(f"model.from ({path})", "Expected a run folder or a Cellwright bundle .zip. "
                              "Received: a path that does not exist.",
                              "Check the path; it is relative to the recipe's folder.")
    source = open_model_source(path)
    from builder.tasks import all_tasks, get_task

    if get_task(source.recipe.task).output != "instance_maps":
        able = " or ".join(t.name for t in all_tasks().values() if t.output == "instance_maps")
        raise CellwrightError(f"model.from ({path})", "Expected a model that separates every cell (task "
                              f"{able}). Received: a {source.recipe.task} model.",
                              "Train an instance-segmentation model first, or leave model.from out to train one "
                              "in this recipe.")
    return source


def with_segmenter(recipe: Recipe) -> Recipe:
    """A copy of ``recipe`` with the segmenter's preprocessing, instance target and post-processing thresholds."""
    source = open_segmenter(recipe)
    trained = source.recipe
    out = recipe.model_copy(deep=True)
    out.model.from_ = str(Path(str(segmenter_path(recipe))).resolve())  # the run's recipe.yaml is read elsewhere
    out.preprocess = trained.preprocess.model_copy(deep=True)
    out.train.instance_target = trained.train.instance_target
    out.data.channels = trained.data.channels
    out.data.pixel_size = recipe.data.pixel_size or trained.data.pixel_size
    post = out.evaluate.postprocess
    tuned = source.postprocess or {}
    for key in ("threshold", "seed_threshold", "min_size"):
        value = tuned.get(key, getattr(trained.evaluate.postprocess, key))
        setattr(post, key, type(getattr(post, key))(value))
    return out


def adopt_segmenter(recipe: Recipe, run: Any, *, events: Any = None) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Stand-in for training: the segmenter's model and normalisation become the run's (no epoch is trained).

    Returns (model, data info, normalisation) for the caller's ``Fitted`` (zero epochs trained).
    """
    from builder.events import make_event
    from builder.run_folder import NormalizationRecord

    source = open_segmenter(recipe)
    run.checkpoints_dir.mkdir(parents=True, exist_ok=True)
    source.model.save(run.best_checkpoint)
    normalization = dict(source.normalization or {"normalize": None, "target_normalize": None})
    normalization.setdefault("target_from_input", None)
    run.write_normalization(NormalizationRecord.from_dict(normalization))
    run.write_origin(recipe.base_dir)
    shape = tuple(source.model.input_shape[1:])
    info = {"input_shape": list(shape), "n_channels": int(shape[-1]), "classes": [],
            "segmenter": str(segmenter_path(recipe)), "n_train_images": 0}
    run.write_data_info(info)
    run.write_state({"epoch": int(recipe.train.epochs), "stop_training": True, "segmenter": info["segmenter"]})
    if events is not None:
        events(make_event("log", message=f"Segmenter: {info['segmenter']} (not trained again; only linking is "
                                         "fitted)"))
    return source.model, info, normalization

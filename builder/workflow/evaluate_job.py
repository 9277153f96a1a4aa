"""``cellwright evaluate``: score a trained model on a split (or another dataset) with every task metric.

Writes ``metrics.json`` and ``evaluation/<name>.npz`` (see the run-folder contract in the notes): the report
reads both. Instance segmentation first tunes its watershed thresholds on the validation images.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.errors import DataError
from builder.events import EventSink, make_event
from builder.run_folder import RunFolder
from builder.tasks import Task, get_task
from builder.tasks.base import flat_numbers

if TYPE_CHECKING:
    from builder.data.layouts import Sample
    from builder.recipe import Recipe

#: Largest number of images whose arrays are written to ``evaluation/``.
MAX_SAVED_IMAGES = 50

def finite(value: Any) -> Any:
    """JSON-safe copy: NumPy scalars to Python, NaN/inf to None."""
    if isinstance(value, Mapping):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sample_name(path: Path) -> str:
    """File name without its image ending (``a.ome.tif`` -> ``a``)."""
    name = Path(path).name
    for ending in (".ome.tiff", ".ome.tif", ".ome.zarr"):
        if name.lower().endswith(ending):
            return name[: -len(ending)]
    return Path(name).stem if Path(name).suffix else name


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = re.sub(r"[^A-Za-z0-9._-]+", "_", n) or "image"
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def _emit(events: EventSink | None, event: str, /, **payload: Any) -> None:
    if events is not None:
        events(make_event(event, **payload))


def _progress(events: EventSink | None, stage: str, step: int, total: int, unit: str) -> None:
    """One progress event of the evaluation: ``batch`` with ``job="evaluate"``, ``stage`` (``tune``: finding the
    post-processing thresholds on the validation images; ``evaluate``: scoring the test images), ``step`` of
    ``total`` of ``unit`` (``image`` or ``setting``). The CLI draws a bar from it, the app "image i of n"."""
    _emit(events, "batch", job="evaluate", stage=stage, unit=unit, step=step, total=total)


def _outputs(model: Any, recipe: Recipe, loaded: Any, stats: Any, events: EventSink | None, stage: str,
             after: Callable[[np.ndarray], Any] | None = None, norm_record: Any = None
             ) -> tuple[list[np.ndarray], list[np.ndarray], list[Any]]:
    """Normalised inputs, network outputs (and ``after(output)`` per image) of loaded images; one progress event
    per image.

    Pixel tasks: ``loaded`` holds the images at their own resolution (:func:`original_grid`); each is rescaled for
    the network like a training image and its output interpolated back, so scores are computed at the original
    resolution. The inputs returned are normalised at that resolution too (for the report's figures).
    """
    from builder.data.object_scale import training_diameter
    from builder.data.preprocess import normalise_input
    from builder.workflow.inference import full_resolution_output, network_output, prepare

    pixel = get_task(recipe.task).pixel_output
    diameter = training_diameter(recipe.preprocess, norm_record) if pixel else None
    sizes = list(getattr(loaded, "pixel_sizes", None) or []) or [None] * len(loaded.images)
    xs, outs, extra = [], [], []
    for i, image in enumerate(loaded.images):
        if pixel:
            out, _, used = full_resolution_output(model, image, recipe, stats=stats, pixel_size=sizes[i],
                                                  diameter=diameter)
            xs.append(normalise_input(np.asarray(image, np.float32), recipe.preprocess.normalize, used)[0])
        else:
            x, _ = prepare(image, recipe, model=model, stats=stats, resized=True)
            xs.append(x)
            out = network_output(model, x, recipe)
        outs.append(out)
        if after is not None:
            extra.append(after(out))
        _progress(events, stage, i + 1, len(loaded.images), "image")
    return xs, outs, extra


def original_grid(recipe: Recipe) -> Any:
    """The recipe's ``preprocess`` section without rescaling, for loading pixel-task images and masks at their own
    resolution (classification keeps its whole-image resizing)."""
    pre = recipe.preprocess
    if not get_task(recipe.task).pixel_output:
        return pre
    return pre.model_copy(update={"resample_to": None, "object_diameter": None})


def _classes_in(folder: str | Path | None) -> list[str] | None:
    """Class names a training run recorded (its data info), in model output order."""
    if folder is None:
        return None

    info = RunFolder(Path(folder)).read_data_info()
    return info.classes if info is not None else None


@dataclass(frozen=True)
class ScoringContext:
    """What a task needs besides the images to score them (``Task.score``)."""

    recipe: Recipe
    classes: list[str]
    target_stats: Any
    normalization: Any = None  # the run's normalization.json contents (None: per-image normalisation)
    companions: Mapping[str, Any] | None = None  # models saved with the network (Task.companion_files), loaded


def tune_postprocess(model: Any, recipe: Recipe, samples: Sequence[Any], *, norm_stats: Any = None,
                     start: Mapping[str, Any] | None = None, events: EventSink | None = None) -> dict:
    """Tune the task's post-processing thresholds on ``samples`` (validation images with masks)."""
    from builder.data.pipeline import load_split
    from builder.tasks.base import require_targets
    from builder.workflow.inference import postprocess_settings, resolve_norm_stats

    params = postprocess_settings(recipe, start)
    loaded = load_split(list(samples), recipe.data, original_grid(recipe))
    require_targets(loaded, "validation images")
    in_stats, _ = resolve_norm_stats(norm_stats)
    _, outs, _ = _outputs(model, recipe, loaded, in_stats, events, "tune", norm_record=norm_stats)
    truths = [np.maximum(t[..., 0], 0) for t in loaded.targets]  # cells nobody outlined (-1): not scored
    return get_task(recipe.task).tune_postprocess(
        outs, truths, recipe, params,
        progress=lambda done, total: _progress(events, "tune", done, total, "setting"), loaded=loaded)


def _add_conditions(per_image: list[dict[str, Any]], samples: list[Any]) -> None:
    """Record each image's group (e.g. a manifest's ``group`` column) when groups hold several images, so the
    report can show per-condition scores; an image that is its own group is not a condition."""
    groups = [getattr(sample, "group", "") or "" for sample in samples]
    shared = {g for g in groups if g and groups.count(g) > 1}
    if not shared:
        return
    for row, group in zip(per_image, groups, strict=True):
        if group in shared:
            row["group"] = group


def _assemble(task: Task, m: dict, rows: list, names: list[str], params: dict, split: str) -> dict[str, Any]:
    out: dict[str, Any] = {"task": task.name, "split": split, **task.extra_results(m)}
    flat = task.flat_metrics(m)
    label, key = task.headline
    out["headline"] = {"name": label, "key": key, "value": flat.get(key), "higher_is_better": True}
    out["metrics"] = flat
    out["per_class"] = {n: flat_numbers(v) for n, v in (m.get("per_class") or {}).items()}
    out["class_names"] = list(m.get("class_names") or (list(m["per_class"]) if m.get("per_class") else []))
    if "confusion_matrix" in m:
        out["confusion_matrix"] = m["confusion_matrix"]
    out["per_image"] = [{"name": n, **row} for n, row in zip(names, rows, strict=True)]
    out["postprocess"] = params
    out["n_images"] = len(names)
    return out


def _save_arrays(folder: Path, names: list[str], xs: list, truths: list, preds: list, outs: list, rows: list,
                 task: Task) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names[:MAX_SAVED_IMAGES]):
        score = rows[i].get("score")
        arrays: dict[str, Any] = {"image": np.asarray(xs[i], np.float32), "truth": np.asarray(truths[i]),
                                  "prediction": np.asarray(preds[i]),
                                  "score": np.float32(score if score is not None else np.nan),
                                  **task.saved_arrays(outs[i])}
        np.savez_compressed(folder / f"{name}.npz", **arrays)


def evaluate_model(
    model: Any,
    recipe: Recipe,
    samples: Sequence[Any],
    *,
    norm_stats: Any = None,
    postprocess: Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    tune_on: Sequence[Any] | None = None,
    class_names: Sequence[str] | None = None,
    split: str = "test",
    events: EventSink | None = None,
    extra: Mapping[str, Any] | None = None,
    companions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Score ``model`` on ``samples`` with every metric of the recipe's task.

    Parameters
    ----------
    model : keras.Model
    recipe : Recipe
    samples : list of Sample
        Images with their masks / targets / labels (e.g. ``dataset.splits["test"]``).
    norm_stats : dict or NormStats, optional
        Training's statistics (``normalization.json`` contents); per-image normalisation when left out.
    postprocess : dict, optional
        Fixed thresholds (e.g. ``postprocess.json``); when given, nothing is tuned.
    out_dir : str or Path, optional
        Where ``metrics.json``, ``evaluation/<name>.npz`` (and ``postprocess.json`` after tuning) are written.
    tune_on : list of Sample, optional
        Validation samples to tune the instance watershed thresholds on (if ``evaluate.postprocess.tune``).
    class_names : list of str, optional
        Class names in model output order (default ``data.classes``).
    split : str
        Name recorded as ``split``.
    events : callable, optional
        Receives progress events: ``batch`` with ``job="evaluate"`` (see :func:`_progress`) per validation image
        and per threshold setting while tuning, per test image while scoring; ``metric`` with the score at the end.
    extra : dict, optional
        More keys for ``metrics.json`` (e.g. the evaluated folder).
    companions : dict, optional
        The models saved with the network (``Task.companion_files``, loaded), e.g. a learned link scorer.

    Returns
    -------
    dict
        The ``metrics.json`` contents.
    """
    from builder.data.pipeline import load_split
    from builder.workflow.inference import interpret_output, postprocess_settings, resolve_norm_stats

    task = get_task(recipe.task)
    task.check_trainable()
    samples = list(samples)
    if not samples:
        raise DataError(f"data ({split})", "No images to evaluate.", "Check the data folder and data.split.")
    in_stats, target_stats = resolve_norm_stats(norm_stats)
    params: dict[str, Any] = postprocess_settings(recipe, postprocess)
    tuning = None
    if tune_on and postprocess is None and task.tunes_postprocess(recipe):
        tuning = tune_postprocess(model, recipe, tune_on, norm_stats=norm_stats, start=params, events=events)
        params.update({k: tuning[k] for k in params if k in tuning})  # the settings the task tuned
    classes = list(class_names or recipe.data.classes or _classes_in(out_dir) or [])
    loaded = load_split(samples, recipe.data, original_grid(recipe), classes=classes)  # scored at full size
    xs, outs, results = _outputs(model, recipe, loaded, in_stats, events, "evaluate",
                                 after=lambda output: interpret_output(output, recipe, params), norm_record=norm_stats)
    m, truths, preds, rows = task.score(loaded, xs, outs, results, ScoringContext(recipe, classes, target_stats,
                                                                                  norm_stats, companions))
    names = _unique([sample_name(s.image_path) + ("" if s.frame is None else f"_t{s.frame:03d}")
                     for s in loaded.samples])
    record = dict(params)
    if tuning is not None:
        record["tuning"] = {k: v for k, v in tuning.items() if k not in params}
    assembled = _assemble(task, m, rows, names, record, split)
    _add_conditions(assembled["per_image"], loaded.samples)
    baseline = task.baseline(recipe, loaded.images, truths)
    if baseline is not None:
        assembled["baseline"] = baseline
    metrics = finite({**assembled, **(extra or {})})
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        target = RunFolder(out)
        target.write_metrics(metrics)
        _save_arrays(target.evaluation_dir, names, xs, truths, preds, outs, rows, task)
        if tuning is not None:
            target.write_postprocess(finite(tuning))
    headline = metrics["headline"]
    _emit(events, "metric", split=split, name=headline["name"], value=headline["value"], metrics=metrics["metrics"])
    return metrics


def _samples_from_split_json(run_dir: Path, split: str) -> list[Sample] | None:
    from builder.data.layouts import Sample

    data = RunFolder(run_dir).read_split()
    if not isinstance(data, dict):
        return None
    rows = (data.get("splits") or {}).get(split) if isinstance(data.get("splits"), dict) else data.get(split)
    if not isinstance(rows, list):
        return None
    out: list[Sample] = []
    for row in rows:
        if not isinstance(row, dict):  # only names were recorded: discover the files again
            return None
        if not row.get("image_path") or not Path(row["image_path"]).exists():
            return None  # data moved: discover again
        out.append(Sample.from_dict(row))
    return out


def evaluation_dir(run_dir: str | Path, data: str | Path | None = None) -> Path:
    """Where :func:`evaluate_run` writes: the run folder, or ``evaluations/<folder name>/`` for ``--data``."""
    run_dir = Path(run_dir)
    if data is None:
        return run_dir
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(data).resolve().name).strip("-.") or "data"
    return RunFolder(run_dir).evaluations_dir / name


def with_clean_targets(data_section: Any, folder: Path) -> Any:
    """The ``data`` section that reads ``folder``'s clean targets when a noisy-only (Noise2Void) run is scored.

    A model trained on noisy images only is otherwise scored against its noisy input; a folder laid out like
    ``folders`` (``images/`` plus ``targets/``, or the sub-folder ``data.targets`` names, same file names) gives
    clean targets to score it against. Any other data section is returned as it is.
    """
    if data_section.layout != "noisy_only":
        return data_section
    targets = data_section.targets or "targets"
    if not (folder / data_section.images).is_dir() or not (folder / targets).is_dir():
        return data_section
    return data_section.model_copy(update={"layout": "folders", "targets": targets})


def evaluate_run(run_dir: str | Path, *, data: str | Path | None = None, events: EventSink | None = None
                 ) -> dict[str, Any]:
    """Evaluate a run's best checkpoint on its test split, or on every image of another dataset folder.

    Parameters
    ----------
    run_dir : str or Path
        Run folder written by ``cellwright train``.
    data : str or Path, optional
        A dataset folder laid out like the recipe's data (``data.root`` replaced); all of its images are scored
        and the results go to ``RUN_DIR/evaluations/<folder name>/`` so the run's own ``metrics.json`` stays.

    Returns
    -------
    dict
        The ``metrics.json`` contents.
    """
    from builder.data.layouts import discover
    from builder.recipe.sections.data import Split
    from builder.workflow.model_source import open_model_source

    run_dir = Path(run_dir)
    source = open_model_source(run_dir)
    if source.kind != "run":
        raise DataError(str(run_dir), "Expected a run folder.", "Pass a folder written by 'cellwright train'.")
    recipe = source.recipe
    tune_on, extra = None, None
    if data is not None:
        folder = Path(data).resolve()
        if not folder.is_dir():
            raise DataError(str(data), "The dataset folder does not exist.", "Give a folder laid out like the "
                            "training data (same sub-folders as the recipe's data section).")
        data_section = with_clean_targets(recipe.data.model_copy(update={"root": str(folder)}), folder)
        if data_section.split.mode == "folders" and not (folder / data_section.split.train_folder).is_dir():
            data_section = data_section.model_copy(update={"split": Split(mode="random", validation=0.0, test=0.0)})
        recipe = recipe.model_copy(update={"data": data_section})
        dataset = discover(recipe, folder)
        samples = [s for _, s in dataset.samples()]
        split, extra = "external", {"data": str(folder)}
    else:
        split = recipe.evaluate.split
        recorded = _samples_from_split_json(run_dir, split)
        validation = _samples_from_split_json(run_dir, "validation")
        if recorded is None or validation is None:
            dataset = discover(recipe, recipe.base_dir)
            recorded, validation = dataset.splits[split], dataset.splits["validation"]
        samples = recorded
        tune_on = validation if source.postprocess is None else None
    metrics = evaluate_model(source.model, recipe, samples, norm_stats=source.normalization,
                             postprocess=source.postprocess, out_dir=evaluation_dir(run_dir, data), tune_on=tune_on,
                             class_names=source.class_names, split=split, events=events, extra=extra,
                             companions=source.companions)
    if data is None and split == "test":
        from builder.workflow.stages import mark_finished

        mark_finished(run_dir, "evaluate")  # e.g. a 'train --no-test' run, scored at the end
    return metrics

"""``cellwright evaluate``: score a trained model on a split (or another dataset) with every task metric.

Writes ``metrics.json`` and ``evaluation/<name>.npz`` (see the run-folder contract in the notes): the report
reads both. Instance segmentation first tunes its watershed thresholds on the validation images.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import DataError
from builder.events import EventSink, make_event
from builder.io_utils import atomic_write_json

#: Largest number of images whose arrays are written to ``evaluation/``.
MAX_SAVED_IMAGES = 50

#: Headline metric per task: (display name, key in ``metrics``).
HEADLINES = {
    "classification": ("Balanced accuracy", "balanced_accuracy"),
    "segmentation": ("Mean IoU", "mean_iou"),
    "instance_segmentation": ("AP@0.5", "ap@0.5"),
    "image_to_image": ("PSNR (dB)", "psnr"),
}


def _finite(value: Any) -> Any:
    """JSON-safe copy: NumPy scalars to Python, NaN/inf to None."""
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _flat_numbers(d: Mapping[str, Any], skip: Sequence[str] = ()) -> dict[str, float]:
    return {k: float(v) for k, v in d.items() if k not in skip and isinstance(v, (int, float, np.number))
            and not isinstance(v, bool)}


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


def _outputs(model: Any, recipe: Any, images: list[np.ndarray], stats: Any, events: EventSink | None,
             phase: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Normalised inputs and raw network outputs of already loaded (resampled) images."""
    from builder.workflow.inference import network_output, prepare

    xs, outs = [], []
    for i, image in enumerate(images):
        x, _ = prepare(image, recipe, model=model, stats=stats, resized=True)
        xs.append(x)
        outs.append(network_output(model, x, recipe))
        _emit(events, "batch", phase=phase, step=i + 1, total=len(images))
    return xs, outs


def _classes_in(folder: str | Path | None) -> list[str] | None:
    """Class names a training run recorded (``data_info.json``), in model output order."""
    if folder is None:
        return None
    from builder.workflow.model_source import read_json

    info = read_json(Path(folder) / "data_info.json")
    return [str(c) for c in info["classes"]] if isinstance(info, dict) and info.get("classes") else None


def _require_targets(loaded: Any, where: str) -> None:
    if len(loaded.targets) != len(loaded.images):
        raise DataError(where, f"{len(loaded.images) - len(loaded.targets)} of {len(loaded.images)} images have no "
                        "mask or target, so they cannot be scored.", "Add the missing masks/targets or remove "
                        "those images from the evaluated folder.")


def tune_instance_postprocess(model: Any, recipe: Any, samples: Sequence[Any], *, norm_stats: Any = None,
                              start: Mapping[str, Any] | None = None, events: EventSink | None = None) -> dict:
    """Tune ``threshold`` / ``seed_threshold`` of the watershed on ``samples`` (validation images with masks)."""
    from builder.data.pipeline import load_split
    from builder.tasks.instances import tune_postprocess
    from builder.workflow.inference import postprocess_settings, resolve_norm_stats

    params = postprocess_settings(recipe, start)
    loaded = load_split(recipe, list(samples))
    _require_targets(loaded, "validation images")
    in_stats, _ = resolve_norm_stats(norm_stats)
    _, outs = _outputs(model, recipe, loaded.images, in_stats, events, "tune")
    tuned = tune_postprocess(outs, [t[..., 0] for t in loaded.targets], target=recipe.train.instance_target,
                             start=params, min_size=params["min_size"], iou_thresholds=recipe.evaluate.iou_thresholds)
    return {"threshold": tuned["threshold"], "seed_threshold": tuned["seed_threshold"],
            "min_size": tuned["min_size"], "tuned_on": len(outs), "score": tuned["score"],
            "start_score": tuned["start_score"], "score_name": "ap_mean (validation)"}


def _image_targets(recipe: Any, loaded: Any, xs: list[np.ndarray], stats: Any) -> tuple[list[np.ndarray], str]:
    from builder.data.normalize import apply_stats, stats_from_config

    if not loaded.targets:  # noisy images only (Noise2Void): nothing clean to compare with
        return list(xs), "No clean target images: the prediction is scored against the noisy input."
    _require_targets(loaded, "test images")
    cfg = recipe.preprocess.target_normalize or recipe.preprocess.normalize
    return [apply_stats(t, stats if stats is not None else stats_from_config([t], cfg), clip=cfg.clip)
            for t in loaded.targets], ""


def _score_task(recipe: Any, loaded: Any, xs: list, outs: list, params: dict, classes: list[str],
                target_stats: Any) -> tuple[dict, list, list, list]:
    """Task metrics dict, truths, predictions and per-image rows (without names)."""
    from builder.tasks import metrics as M
    from builder.workflow.inference import interpret_output

    task = recipe.task
    results = [interpret_output(o, recipe, params) for o in outs]
    preds = [r["prediction"] for r in results]
    if task == "classification":
        probs = np.stack([r["probabilities"] for r in results])
        k = probs.shape[1]
        names = (classes + [str(i) for i in range(len(classes), k)])[:k]
        truths = list(loaded.labels)
        m = M.classification_metrics(np.asarray(truths), np.asarray(preds), probs, n_classes=k, class_names=names)
        rows = [{"score": float(t == p), "truth": names[t], "prediction": names[p],
                 "confidence": float(r["probabilities"][p])} for t, p, r in zip(truths, preds, results, strict=True)]
        return m, truths, preds, rows
    if task == "image_to_image":
        truths, note = _image_targets(recipe, loaded, xs, target_stats)
        m = M.image_metrics(truths, preds, xs)
        if note:
            m["note"] = note
        rows = [{"score": r.get("psnr"), **r} for r in m["per_image"]]
        return m, truths, preds, rows
    _require_targets(loaded, "test images")
    truths = [t[..., 0].astype(np.int32) for t in loaded.targets]
    if task == "segmentation":
        k = max(2, outs[0].shape[-1])
        names = (classes + [str(i) for i in range(len(classes), k)])[:k]
        m = M.semantic_metrics(truths, preds, k, class_names=names)
        rows = [{"score": r["mean_iou"], **r} for r in m["per_image"]]
        return m, truths, preds, rows
    m = M.instance_metrics(truths, preds, recipe.evaluate.iou_thresholds)
    rows = [{"score": r["ap"], **r} for r in m["per_image"]]
    return m, truths, preds, rows


def _instance_flat(m: Mapping[str, Any]) -> dict[str, float]:
    """Flat instance metrics: the summary numbers plus ``ap@0.5``, ``f1@0.7``... for every IoU threshold."""
    flat = _flat_numbers(m, ("n_images", "tp", "fp", "fn"))
    for t, s in m["by_threshold"].items():
        for key in ("ap", "f1", "precision", "recall", "mean_matched_iou", "panoptic_quality"):
            flat[f"{key}@{t}"] = float(s[key])
    return flat


#: Name of the classical method the instance models are compared with (``metrics.json`` ``baseline.name``).
BASELINE_NAME = "Otsu threshold + watershed (scikit-image)"


def classical_baseline(recipe: Any, images: Sequence[np.ndarray], truths: Sequence[np.ndarray]) -> dict[str, Any]:
    """Score the classical method (Otsu + watershed on the raw first channel) on the same test images.

    Parameters
    ----------
    recipe : Recipe
        Gives the IoU thresholds (``evaluate.iou_thresholds``).
    images : list of (Y, X, C) arrays
        The raw (resampled, not normalised) test images.
    truths : list of (Y, X) int arrays
        Their true instance labels.

    Returns
    -------
    dict
        ``{"name": BASELINE_NAME, "metrics": {flat metrics like the model's}}``.
    """
    from builder.tasks import metrics as M
    from builder.tasks.classical import classical_instances

    preds = [classical_instances(np.asarray(image)[..., 0]) for image in images]
    m = M.instance_metrics(list(truths), preds, recipe.evaluate.iou_thresholds)
    return {"name": BASELINE_NAME, "metrics": _instance_flat(m)}


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


def _assemble(recipe: Any, m: dict, rows: list, names: list[str], params: dict, split: str) -> dict[str, Any]:
    task = recipe.task
    out: dict[str, Any] = {"task": task, "split": split}
    skip = ("n_images", "tp", "fp", "fn")
    flat = _flat_numbers(m, skip)
    if task == "instance_segmentation":
        flat = _instance_flat(m)
        out["by_threshold"] = m["by_threshold"]
    if task == "image_to_image":
        out["input_baseline"] = {k: m.get(f"input_{k}") for k in ("psnr", "ssim", "pearson", "nrmse")}
        flat = {k: v for k, v in flat.items() if not k.startswith("input_")}
        if m.get("note"):
            out["note"] = m["note"]
    label, key = HEADLINES[task]
    out["headline"] = {"name": label, "key": key, "value": flat.get(key), "higher_is_better": True}
    out["metrics"] = flat
    out["per_class"] = {n: _flat_numbers(v) for n, v in (m.get("per_class") or {}).items()}
    out["class_names"] = list(m.get("class_names") or (list(m["per_class"]) if m.get("per_class") else []))
    if "confusion_matrix" in m:
        out["confusion_matrix"] = m["confusion_matrix"]
    out["per_image"] = [{"name": n, **row} for n, row in zip(names, rows, strict=True)]
    out["postprocess"] = params
    out["n_images"] = len(names)
    return out


def _save_arrays(folder: Path, names: list[str], xs: list, truths: list, preds: list, outs: list, rows: list,
                 task: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names[:MAX_SAVED_IMAGES]):
        score = rows[i].get("score")
        arrays: dict[str, Any] = {"image": np.asarray(xs[i], np.float32), "truth": np.asarray(truths[i]),
                                  "prediction": np.asarray(preds[i]),
                                  "score": np.float32(score if score is not None else np.nan)}
        if task == "classification":
            arrays["probabilities"] = np.asarray(outs[i], np.float32)
        np.savez_compressed(folder / f"{name}.npz", **arrays)


def evaluate_model(
    model: Any,
    recipe: Any,
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
        Receives progress events.
    extra : dict, optional
        More keys for ``metrics.json`` (e.g. the evaluated folder).

    Returns
    -------
    dict
        The ``metrics.json`` contents.
    """
    from builder.data.pipeline import load_split
    from builder.workflow.inference import postprocess_settings, resolve_norm_stats

    if recipe.task not in HEADLINES:
        raise DataError("task", f"The {recipe.task!r} task cannot be evaluated yet.", "Use another task.")
    samples = list(samples)
    if not samples:
        raise DataError(f"data ({split})", "No images to evaluate.", "Check the data folder and data.split.")
    in_stats, target_stats = resolve_norm_stats(norm_stats)
    params: dict[str, Any] = postprocess_settings(recipe, postprocess)
    tuning = None
    if (recipe.task == "instance_segmentation" and tune_on and postprocess is None
            and recipe.evaluate.postprocess.tune):
        tuning = tune_instance_postprocess(model, recipe, tune_on, norm_stats=norm_stats, start=params,
                                           events=events)
        params.update({k: tuning[k] for k in ("threshold", "seed_threshold", "min_size")})
    classes = list(class_names or recipe.data.classes or _classes_in(out_dir) or [])
    loaded = load_split(recipe, samples, classes=classes)
    xs, outs = _outputs(model, recipe, loaded.images, in_stats, events, "evaluate")
    m, truths, preds, rows = _score_task(recipe, loaded, xs, outs, params, classes, target_stats)
    names = _unique([sample_name(s.image_path) for s in loaded.samples])
    record = dict(params)
    if tuning is not None:
        record["tuning"] = {k: v for k, v in tuning.items() if k not in ("threshold", "seed_threshold", "min_size")}
    assembled = _assemble(recipe, m, rows, names, record, split)
    _add_conditions(assembled["per_image"], loaded.samples)
    if recipe.task == "instance_segmentation":
        try:
            assembled["baseline"] = classical_baseline(recipe, loaded.images, truths)
        except Exception as error:  # the comparison is a bonus: never lose the model's scores for it
            assembled["baseline"] = {"name": BASELINE_NAME, "metrics": {},
                                     "error": f"{error.__class__.__name__}: {error}"}
    metrics = _finite({**assembled, **(extra or {})})
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "metrics.json", metrics)
        _save_arrays(out / "evaluation", names, xs, truths, preds, outs, rows, recipe.task)
        if tuning is not None:
            atomic_write_json(out / "postprocess.json", _finite(tuning))
    headline = metrics["headline"]
    _emit(events, "metric", split=split, name=headline["name"], value=headline["value"])
    return metrics


def _samples_from_split_json(run_dir: Path, split: str) -> list[Any] | None:
    from builder.data.layouts import Sample
    from builder.workflow.model_source import read_json

    data = read_json(run_dir / "split.json")
    if not isinstance(data, dict):
        return None
    rows = (data.get("splits") or {}).get(split) if isinstance(data.get("splits"), dict) else data.get(split)
    if not isinstance(rows, list):
        return None
    out = []
    for row in rows:
        if not isinstance(row, dict):  # only names were recorded: discover the files again
            return None
        kw = {k: (Path(v) if k.endswith("_path") and v else v) for k, v in row.items()
              if k in ("image_path", "mask_path", "target_path", "label", "group", "split")}
        if "image_path" not in kw or not Path(kw["image_path"]).exists():
            return None  # data moved: discover again
        out.append(Sample(**kw))
    return out


def evaluation_dir(run_dir: str | Path, data: str | Path | None = None) -> Path:
    """Where :func:`evaluate_run` writes: the run folder, or ``evaluations/<folder name>/`` for ``--data``."""
    run_dir = Path(run_dir)
    if data is None:
        return run_dir
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(data).resolve().name).strip("-.") or "data"
    return run_dir / "evaluations" / name


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
        data_section = recipe.data.model_copy(update={"root": str(folder)})
        if data_section.split.mode == "folders" and not (folder / data_section.split.train_folder).is_dir():
            data_section = data_section.model_copy(update={"split": Split(mode="random", validation=0.0, test=0.0)})
        recipe = recipe.model_copy(update={"data": data_section})
        dataset = discover(recipe, folder)
        samples = [s for _, s in dataset.samples()]
        split, extra = "external", {"data": str(folder)}
    else:
        split = recipe.evaluate.split
        samples = _samples_from_split_json(run_dir, split)
        validation = _samples_from_split_json(run_dir, "validation")
        if samples is None or validation is None:
            dataset = discover(recipe, recipe.base_dir)
            samples, validation = dataset.splits[split], dataset.splits["validation"]
        tune_on = validation if source.postprocess is None else None
    return evaluate_model(source.model, recipe, samples, norm_stats=source.normalization,
                          postprocess=source.postprocess, out_dir=evaluation_dir(run_dir, data), tune_on=tune_on,
                          class_names=source.class_names, split=split, events=events, extra=extra)

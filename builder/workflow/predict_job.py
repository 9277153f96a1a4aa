"""``cellwright predict``: run a trained model on new images of any size and write what biologists use next.

Per image: class masks (``<stem>_mask.tif``), instance labels (``<stem>_labels.tif``, uint16 or uint32) with a
per-object table (``<stem>_objects.csv``; all objects also in ``objects.csv``), restored images
(``<stem>_restored.tif``), and probability maps (``<stem>_prob.tif``, float32) when asked for; every TIFF keeps the
input's pixel size.
Classification writes one ``predictions.csv`` (file, class, probability per class).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from builder.errors import CellwrightError, DataError
from builder.events import EventSink, make_event
from builder.tasks import get_task
from builder.workflow.predict_inputs import PROJECTIONS, Skipped, collect_inputs


def _emit(events: EventSink | None, event: str, /, **payload: Any) -> None:
    if events is not None:
        events(make_event(event, **payload))


def _stems(paths: Sequence[Path]) -> list[str]:
    from builder.workflow.evaluate_job import _unique, sample_name

    return _unique([sample_name(p) for p in paths])


def planned_outputs(task: str, stems: Sequence[str], out_dir: Path) -> list[Path]:
    """Every file a prediction of ``stems`` would write in ``out_dir``."""
    spec = get_task(task)
    files = [out_dir / f.format(stem=s) for s in stems for f in spec.predict_files]
    return files + [out_dir / f for f in spec.predict_summary_files]


def _frames(image: Any, stem: str) -> list[tuple[int | None, str, Any]]:
    """(frame index or None, output stem, 2D image) for each frame of a time-lapse, or the image itself."""
    import dataclasses

    if image.axes == "YXC":
        return [(None, stem, image)]
    width = max(3, len(str(len(image.array) - 1)))
    return [(t, f"{stem}_t{t:0{width}d}", dataclasses.replace(image, array=image.array[t], axes="YXC"))
            for t in range(len(image.array))]


def _read_for_model(path: Path, source: Any, *, channels: list[str] | None, project: str | None) -> Any:
    """Read one image and fit its channels to the model's input (raises DataError saying what to do)."""
    from builder.data.readers import read_image
    from builder.workflow.predict_inputs import fit_channels, model_channels

    data = source.recipe.data
    image = read_image(path, channels=channels or data.channels, file_channels=data.file_channels, project=project)
    if image.axes != "YXC":
        raise DataError(str(path), f"is a time-lapse ({image.array.shape[0]} frames).",
                        "Save each frame as its own image and predict those.")
    return fit_channels(image, model_channels(source.model), project=project)


def _read_frames(path: Path, source: Any, stem: str, *, channels: list[str] | None, project: str | None
                 ) -> list[tuple[int | None, str, Any]]:
    """(frame index or None, output stem, image fitted to the model) per frame of a time-lapse (tasks that track
    cells), else the one image."""
    from builder.data.readers import read_image
    from builder.workflow.predict_inputs import fit_channels, model_channels

    if not get_task(source.recipe.task).time_lapse:
        return [(None, stem, _read_for_model(path, source, channels=channels, project=project))]
    data = source.recipe.data
    image = read_image(path, channels=channels or data.channels, file_channels=data.file_channels, project=project)
    return [(t, s, fit_channels(frame, model_channels(source.model), project=project))
            for t, s, frame in _frames(image, stem)]


def engine_line(source: Any) -> str:
    """What runs the network and why, for the log (``Network engine: ONNX Runtime (model.onnx, ...)``)."""
    name = "ONNX Runtime" if source.engine == "onnx" else "Keras/TensorFlow"
    return f"Network engine: {name} ({source.engine_reason})." if source.engine_reason else \
        f"Network engine: {name}."


def _predict_fix(fix: str) -> str:
    """The reader's fix, worded for ``predict`` (which has no ``data.skip_unreadable``: it always skips)."""
    if "skip_unreadable" in fix:
        return "Open it in Fiji to check it; replace it (or leave it out) and predict it again."
    return fix.replace("in data.channels", "with --channel")


def predict_paths(
    model_source: Any,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    events: EventSink | None = None,
    force: bool = False,
    channels: list[str] | None = None,
    project: str | None = None,
    diameter: float | None = None,
    probabilities: bool = False,
    shape_measurements: bool = False,
    engine: str = "auto",
) -> dict[str, Any]:
    """Predict every image in ``inputs`` with a trained model and write the results to ``out_dir``.

    Inputs are listed before the model is loaded; files that cannot be predicted (unreadable, wrong channels,
    formats Cellwright does not read) are skipped and listed in ``skipped``, and the tables are written for the
    images that were predicted.

    Parameters
    ----------
    model_source : str, Path or ModelSource
        A run folder, a ``.keras`` file next to its ``recipe.yaml``, a Cellwright bundle ``.zip`` (opened with the
        safe importer), or an already opened :class:`~builder.workflow.model_source.ModelSource`.
    inputs : iterable of str or Path
        Image files and/or folders of images.
    out_dir : str or Path
        Output folder (created).
    events : callable, optional
        Receives ``start``, ``batch`` (one per image), ``artifact`` and ``done`` events.
    force : bool
        Overwrite existing outputs; otherwise existing files stop the job before anything is written.
    channels : list of str, optional
        Channels to feed the model (names or numbers), instead of the recipe's ``data.channels``.
    project : {'max', 'mean'}, optional
        Project z-stacks (and unlabelled stacks read as channels) to one plane for single-channel models.
    diameter : float, optional
        Typical object diameter (px) in these images, for models trained with ``preprocess.object_diameter``:
        the images are rescaled so their objects match the training objects (default: assume the training size).
    probabilities : bool
        Also write the probability maps (``<stem>_prob.tif``, float32: large files).
    shape_measurements : bool
        Also measure each object's perimeter and solidity (outline tracing and convex hulls: slow on big images).
    engine : {'auto', 'onnx', 'keras'}
        What runs the network (when ``model_source`` is a path): ``auto`` uses the run's ONNX copy when it is
        fresh (no TensorFlow start-up; see :mod:`builder.workflow.onnx_cache`), else Keras; ``onnx`` insists on
        the copy, ``keras`` never uses it. The ``start`` event and the summary say which ran (``engine``).

    Returns
    -------
    dict
        ``task``, ``model``, ``out_dir``, ``n_images`` (predicted), ``images`` (one row per image: file, outputs,
        class / objects ...), ``files`` (every file written), ``skipped`` (file, what, fix per input left out),
        ``network_calls`` (images of one shape share calls: see :mod:`builder.workflow.batch_predict`),
        ``engine`` (``onnx`` or ``keras``) and ``engine_reason``.
    """
    from builder.data.object_scale import training_diameter
    from builder.workflow.batch_predict import predict_files
    from builder.workflow.inference import network_calls, overlap_warning
    from builder.workflow.model_source import ModelSource, check_engine, open_model_source

    if project is not None and project not in PROJECTIONS:
        raise CellwrightError("--project", f"Expected one of {', '.join(PROJECTIONS)}. Received: project={project!r}",
                              "Use --project max (maximum projection) or --project mean.")
    if diameter is not None and not 1.0 <= float(diameter) <= 4096.0:
        raise CellwrightError("--diameter", f"Expected the objects' diameter in pixels (1 to 4096). Received: "
                              f"{diameter}", "Measure a few objects in Fiji (line tool) and pass their typical "
                              "width in pixels, e.g. --diameter 25.")
    check_engine(engine)
    paths, skipped = collect_inputs(inputs)  # before the (slow) model load
    source = (model_source if isinstance(model_source, ModelSource)
              else open_model_source(model_source, engine=engine))
    task = source.recipe.task
    get_task(task).check_trainable()
    stems = _stems(paths)
    out = Path(out_dir)
    existing = [p for p in planned_outputs(task, stems, out) if p.exists()
                and (probabilities or not p.name.endswith("_prob.tif"))]
    if existing and not force:
        shown = ", ".join(p.name for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise CellwrightError(str(out), f"{len(existing)} output file(s) already exist ({shown}).",
                              "Choose another --out folder, or add --force to overwrite them.")
    out.mkdir(parents=True, exist_ok=True)
    _emit(events, "start", job="predict", task=task, total=len(paths), model=str(source.path),
          engine=source.engine)
    _emit(events, "log", job="predict", kind="engine", engine=source.engine, message=engine_line(source))
    warnings = [w for w in [overlap_warning(source.model, source.recipe)] if w]
    for warning in warnings:
        _emit(events, "warning", job="predict", message=warning["what"], where=warning["where"], fix=warning["fix"])
    for entry in skipped:
        _emit(events, "warning", job="predict", file=entry.file, message=f"skipped: {entry.what}", fix=entry.fix)
    from builder.tasks.base import MEASURE_SHAPE, WRITE_PROBABILITIES

    options = {WRITE_PROBABILITIES: probabilities, MEASURE_SHAPE: shape_measurements}
    rows, files, all_objects = [], [], []
    calls_before = network_calls(source.model)
    if diameter is None and source.recipe.preprocess.object_diameter is not None:
        diameter = training_diameter(source.recipe.preprocess, source.normalization)

    def read_frames(path: Path, stem: str) -> list:
        return _read_frames(path, source, stem, channels=channels, project=project)

    for job, predicted in predict_files(source, list(zip(paths, stems, strict=True)), out, read_frames=read_frames,
                                        diameter=diameter, options=options):
        path, i = job.path, job.index
        if job.error is not None:
            entry = Skipped(str(path), job.error.what, _predict_fix(job.error.fix))
            skipped.append(entry)
            _emit(events, "warning", job="predict", file=entry.file, message=f"skipped: {entry.what}", fix=entry.fix)
            _emit(events, "batch", job="predict", step=i + 1, total=len(paths), file=str(path))
            continue
        for frame, row, written, objects in predicted:
            if frame is not None:
                row.update(frame=frame, sequence=stems[i])
            rows.append(row)
            files += written
            all_objects += [{"file": path.name, **({"frame": frame} if frame is not None else {}), **o}
                            for o in objects]
            for p in written:
                _emit(events, "artifact", kind="prediction", path=str(p))
        _emit(events, "batch", job="predict", step=i + 1, total=len(paths), file=str(path))
    files += get_task(task).write_summary(out, rows, all_objects, recipe=source.recipe, companions=source.companions)
    summary = {"task": task, "model": str(source.path), "out_dir": str(out), "n_images": len(rows),
               "images": rows, "files": [str(p) for p in files], "skipped": [s.to_dict() for s in skipped],
               "warnings": warnings, "network_calls": network_calls(source.model) - calls_before,
               "engine": source.engine, "engine_reason": source.engine_reason}
    _emit(events, "done", job="predict", out_dir=str(out), n_images=len(rows), n_skipped=len(skipped),
          network_calls=summary["network_calls"])
    return summary

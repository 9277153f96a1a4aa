"""Predict many images with few network calls, reading and post-processing while the network runs.

``cellwright predict`` (and the app's worker) hand :func:`predict_files` the list of input files. Three stages
overlap:

1. a reader thread reads each file (all frames of a time-lapse) and normalises it for the network
   (:func:`builder.workflow.inference.prepare_image`), a few images ahead;
2. the calling thread stacks consecutive images of one shape into one network call
   (:func:`builder.workflow.inference.network_outputs`; as many as the tiling memory estimate allows);
3. a post-processing thread brings each output to the image's grid, runs the task's post-processing and
   writes its files, while the next images go through the network.

Results come back file by file in input order, equal to one-at-a-time prediction. Images that stream to disk
(:func:`builder.workflow.stream_predict.can_stream`: large masks and restorations) go one by one as before.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import DataError

#: Files read and normalised ahead of the network.
READ_AHEAD = 2


@dataclass
class Frame:
    """One 2D image to predict: a file, or one frame of a time-lapse."""

    frame: int | None
    stem: str
    image: Any
    raw: Any = None
    x: Any = None
    used: Any = None

    @property
    def batchable(self) -> bool:
        return self.x is not None


@dataclass
class FileJob:
    """The frames of one input file and, once predicted, their results (or the error that skips the file)."""

    index: int
    path: Path
    frames: list[Frame] = field(default_factory=list)
    error: DataError | None = None
    results: list[Future] = field(default_factory=list)


def _read_file(index: int, path: Path, stem: str, source: Any, read_frames: Callable[..., list],
               diameter: float | None) -> FileJob:
    """Read and normalise one file's frames (streamed frames are only read); a DataError marks the file."""
    from builder.workflow.inference import prepare_image
    from builder.workflow.stream_predict import can_stream

    job = FileJob(index, path)
    recipe = source.recipe
    try:
        for frame, frame_stem, image in read_frames(path, stem):
            item = Frame(frame, frame_stem, image)
            if not can_stream(recipe, image.pixel_size, diameter):
                item.raw, item.x, item.used = prepare_image(
                    source.model, image.array, recipe, norm_stats=source.normalization,
                    pixel_size=image.pixel_size or recipe.data.pixel_size, diameter=diameter)
            job.frames.append(item)
    except DataError as error:
        job.error, job.frames = error, []
    return job


def _reader(jobs: Sequence[tuple[Path, str]], source: Any, read_frames: Callable[..., list],
            diameter: float | None, out: queue.Queue, stop: threading.Event) -> None:
    """Put each file's :class:`FileJob` on ``out`` in order, then None; an unexpected error is put as is."""
    try:
        for i, (path, stem) in enumerate(jobs):
            if stop.is_set():
                return
            out.put(_read_file(i, path, stem, source, read_frames, diameter))
        out.put(None)
    except BaseException as error:  # handed to the calling thread, which raises it
        out.put(error)


def _finish(source: Any, item: Frame, output: Any, out_dir: Path, options: dict[str, bool]
            ) -> tuple[dict[str, Any], list[Path], list]:
    """Post-process one network output and write the image's files (post-processing thread)."""
    from builder.tasks import get_task
    from builder.workflow.inference import finish_prediction

    recipe = source.recipe
    result = finish_prediction(output, item.raw, item.x, item.used, recipe, norm_stats=source.normalization,
                               postprocess=source.postprocess)
    result.update(options)
    px = item.image.pixel_size or recipe.data.pixel_size
    task_row, written, objects = get_task(recipe.task).write_prediction(
        result, item.image, item.stem, out_dir, pixel_size=px, class_names=list(source.class_names or []))
    row: dict[str, Any] = {"file": str(item.image.path), **task_row}
    if written:
        row["outputs"] = [str(p) for p in written]
    return row, written, objects


def _done(value: Any) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def predict_files(source: Any, jobs: Sequence[tuple[Path, str]], out_dir: Path, *,
                  read_frames: Callable[[Path, str], list], diameter: float | None,
                  options: dict[str, bool]) -> Iterator[tuple[FileJob, list[tuple[Any, ...]]]]:
    """Predict ``jobs`` (path, output stem) and yield, in input order, each file's :class:`FileJob` with
    ``[(frame, row, written, objects), ...]`` (empty, with ``job.error`` set, for a file that is skipped).

    ``read_frames(path, stem)`` returns ``[(frame or None, stem, image), ...]`` fitted to the model (raising
    :class:`DataError` for files to skip); ``diameter`` is the objects' diameter in these images (px).
    """
    from builder.workflow.inference import images_per_call, network_outputs
    from builder.workflow.stream_predict import stream_predict

    read: queue.Queue = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()
    reader = threading.Thread(target=_reader, args=(jobs, source, read_frames, diameter, read, stop), daemon=True)
    post = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cellwright-post")
    waiting: list[FileJob] = []  # files in input order, until their results are yielded
    group: list[tuple[FileJob, Frame]] = []
    in_post: list[list[Future]] = []  # the post-processing of the last groups sent, oldest first

    def flush() -> None:
        """Send the grouped frames through the network together; their post-processing goes to ``post``.

        The previous group is post-processed while this one is in the network; the one before it must be
        finished first, so at most two groups of outputs wait in memory."""
        if not group:
            return
        while len(in_post) > 1:
            wait(in_post.pop(0))
        try:
            outputs = network_outputs(source.model, [item.x for _, item in group], source.recipe, coarse=True)
        except DataError as error:  # one shape: every image of the group fails alike
            for job, _ in group:
                job.error = error
            outputs = []
        futures = [post.submit(_finish, source, item, output, out_dir, options)
                   for (_, item), output in zip(group, outputs, strict=False)]
        for (job, _), future in zip(group, futures, strict=False):
            job.results.append(future)
        in_post.append(futures)
        group.clear()

    reader.start()
    try:
        while (job := read.get()) is not None:
            if isinstance(job, BaseException):
                raise job
            waiting.append(job)
            for item in job.frames:
                if not item.batchable:  # streamed to disk, one by one
                    flush()
                    job.results.append(_stream(stream_predict, source, item, out_dir, options, job))
                    continue
                if group and (group[0][1].x.shape != item.x.shape
                              or len(group) >= images_per_call(source.model, item.x.shape[:2], source.recipe)):
                    flush()
                group.append((job, item))
            yield from _ready(waiting, block=False)
        flush()
        yield from _ready(waiting, block=True)
    finally:
        stop.set()
        while reader.is_alive():  # a reader blocked on a full queue: let it see the stop
            with contextlib.suppress(queue.Empty):
                read.get(timeout=0.05)
        post.shutdown(wait=True, cancel_futures=True)


def _stream(stream_predict: Callable[..., Any], source: Any, item: Frame, out_dir: Path, options: dict[str, bool],
            job: FileJob) -> Future:
    try:
        return _done(stream_predict(source, item.image, item.stem, out_dir, options))
    except DataError as error:
        job.error = error
        return _done(None)


def _ready(waiting: list[FileJob], *, block: bool) -> Iterator[tuple[FileJob, list[tuple[Any, ...]]]]:
    """Yield the files at the head of ``waiting`` whose frames are all predicted (all of them when ``block``)."""
    while waiting:
        job = waiting[0]
        complete = job.error is not None or len(job.results) == len(job.frames)
        if not complete or not block and not all(f.done() for f in job.results):
            return
        waiting.pop(0)
        predicted: list[tuple[Any, ...]] = []
        if job.error is None:
            try:
                predicted = [(item.frame, *f.result()) for item, f in zip(job.frames, job.results, strict=True)]
            except DataError as error:
                job.error = error
        yield job, ([] if job.error is not None else predicted)

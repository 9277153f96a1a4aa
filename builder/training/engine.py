"""The fit loop: one function that trains a Keras model into a run folder, fresh or resumed.

:func:`fit` knows nothing about tasks or data formats: it gets a model factory, datasets, a loss and metrics.
TensorFlow and Keras are imported when it is called, not when this module is imported.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import CellwrightError, TrainingError
from builder.events import EventSink, make_event
from builder.recipe.sections.train import TrainSection
from builder.training.disk_full import is_disk_full
from builder.training.run_folder import RunFolder
from builder.training.schedules import PlateauState
from builder.training.strategy import Runtime, setup_runtime


@dataclass
class FitResult:
    """What :func:`fit` returns."""

    model: Any
    run: RunFolder
    epochs_completed: int
    initial_epoch: int
    history: list[dict[str, Any]]
    monitor: str
    best_value: float | None
    best_epoch: int | None
    stopped_early: bool
    runtime: dict[str, Any] = field(default_factory=dict)

    @property
    def best_checkpoint(self) -> Path:
        return self.run.best_checkpoint

    @property
    def last_checkpoint(self) -> Path:
        return self.run.last_checkpoint


def events_to_run_folder(run: RunFolder, sink: EventSink | None = None, *, write: bool = True) -> EventSink:
    """A sink that appends each event to ``run/events.jsonl`` (one JSON line, flushed) and forwards it to ``sink``."""
    from builder.io_utils import _jsonable

    def tee(event: dict[str, Any]) -> None:
        if write:
            try:
                with open(run.events_path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(event, default=_jsonable) + "\n")
            except OSError as error:  # a full disk must not hide the event (e.g. the error saying so)
                if not is_disk_full(error):
                    raise
        if sink is not None:
            sink(event)

    return tee


def epoch_keyed_dataset(make_epoch: Callable[[Any], Any], *, initial_epoch: int, epochs: int) -> tuple[Any, int]:
    """Join per-epoch datasets ``make_epoch(epoch_tensor)`` for epochs ``initial_epoch..epochs-1``.

    Each epoch's batches depend only on the epoch number (e.g. ``shuffle(n, seed=seed + epoch)``), so a resumed
    run sees exactly the batches the uninterrupted run would have seen. Returns ``(dataset, steps_per_epoch)``;
    the epoch dataset must have a known, constant number of batches.
    """
    import tensorflow as tf

    probe = make_epoch(tf.constant(0, tf.int64))
    steps = int(probe.cardinality().numpy())
    if steps <= 0:
        raise TrainingError(
            where="train.steps_per_epoch",
            what="The number of batches per epoch of the training data is unknown or zero.",
            fix="Set train.steps_per_epoch, or build each epoch's dataset with a known length "
            "(e.g. batch(..., drop_remainder=True) on a finite dataset).",
        )
    joined = tf.data.Dataset.range(initial_epoch, epochs).flat_map(make_epoch)
    return joined, steps


def resolve_monitor(monitor: str, *, has_validation: bool, score_key: str | None) -> str:
    """The logged quantity that picks the best checkpoint and stops early.

    ``auto`` is the task's headline metric on the validation images (``score_key``) when it is scored, else the
    validation loss; without validation data, the training loss.
    """
    if not has_validation:
        return "loss"
    if monitor == "auto":
        return score_key or "val_loss"
    return monitor


def _restore(model: Any, checkpoint: Path) -> None:
    """Load weights and optimizer state (step count, moments) from a ``.keras`` checkpoint into ``model``."""
    if not checkpoint.is_file():
        raise TrainingError(
            where=str(checkpoint),
            what="The checkpoint named in state.json is missing, so the run cannot be resumed.",
            fix="Start a new run, or copy checkpoints/last.keras of this run to that name.",
        )
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(checkpoint)


def fit(
    model_factory: Callable[[], Any],
    train_ds: Any,
    val_ds: Any = None,
    *,
    settings: TrainSection,
    run: RunFolder,
    loss: Any,
    metrics: Sequence[Any] = (),
    events: EventSink | None = None,
    resume: bool = False,
    extra_callbacks: Sequence[Any] = (),
    runtime: Runtime | None = None,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    class_weight: dict[int, float] | None = None,
    batch_size: int | None = None,
    patch_size: tuple[int, ...] | None = None,
    validation_score: Callable[[Any], float | None] | None = None,
    validation_score_key: str | None = None,
) -> FitResult:
    """Train ``model_factory()`` on ``train_ds`` into ``run``; resume from ``run/state.json`` when ``resume``.

    Parameters
    ----------
    model_factory : callable
        Returns a new, uncompiled ``keras.Model``; called inside the distribution strategy's scope.
    train_ds : tf.data.Dataset or callable
        Batched ``(x, y)`` or ``(x, y, sample_weight)`` dataset, or ``make_epoch(epoch_tensor) -> Dataset``
        (see :func:`epoch_keyed_dataset`; needed for a resumed run to see exactly the same batches).
    val_ds : tf.data.Dataset, optional
        Validation batches; without it, the monitored quantity falls back to the training loss.
    settings : TrainSection
        The recipe's ``train:`` section (epochs, optimizer, schedule, early stopping, seed, checkpoints, ...).
    run : RunFolder
        Folder from :func:`builder.training.run_folder.create_run_folder` (or the one being resumed).
    loss, metrics
        Passed to ``model.compile``.
    events : callable, optional
        Receives ``start``, ``batch``, ``epoch``, ``done`` and ``error`` events (also written to events.jsonl).
    resume : bool
        Continue from the checkpoint and schedule/early-stopping state in ``state.json``.
    extra_callbacks : sequence of keras.callbacks.Callback
        Run after the engine's own (e.g. the backbone freeze callback).
    runtime : Runtime, optional
        From :func:`builder.training.strategy.setup_runtime`; created here when omitted (for multi-worker
        training create it yourself BEFORE building the datasets).
    steps_per_epoch, validation_steps : int, optional
        Override ``settings.steps_per_epoch``.
    class_weight : dict, optional
        Keras ``class_weight`` (classification).
    batch_size, patch_size : optional
        Only used to word an out-of-memory message.
    validation_score, validation_score_key : optional
        ``validation_score(model)`` is called after every epoch and logged as ``validation_score_key`` (e.g.
        ``val_balanced_accuracy``); with ``early_stopping.monitor: auto`` it is the monitored quantity (best
        checkpoint, early stopping, plateau schedule).

    Raises
    ------
    TrainingError
        Non-finite loss, out of memory, nothing left to resume.
    """
    import keras

    from builder.backbones.freeze import prepare_optimizer
    from builder.training import callbacks as cb
    from builder.training.disk_full import translate_disk_full
    from builder.training.oom import translate_oom
    from builder.training.optimizers import make_optimizer

    runtime = runtime or setup_runtime(settings)
    sink = events_to_run_folder(run, events, write=runtime.is_chief)
    state = run.read_state() if resume else None
    initial_epoch = int(state["epoch"]) if state else 0
    monitor = resolve_monitor(settings.early_stopping.monitor, has_validation=val_ds is not None,
                              score_key=validation_score_key if validation_score is not None else None)
    budget_s = settings.budget_seconds()
    if state and (initial_epoch >= settings.epochs or state.get("stop_training")):
        used_up = bool((state.get("time_budget") or {}).get("exhausted"))
        raise TrainingError(
            where=str(run.path),
            what=f"This run already finished ({initial_epoch} of {settings.epochs} epochs"
            + (", time budget used" if used_up else ", stopped early" if state.get("stop_training") else "")
            + "); there is nothing to resume.",
            fix="Increase train.epochs in the run's recipe.yaml to train longer, or start a new run.",
        )

    with runtime.strategy.scope():
        keras.utils.set_random_seed(settings.seed)
        model = model_factory()
        model.compile(optimizer=make_optimizer(settings.optimizer), loss=loss, metrics=list(metrics),
                      jit_compile=runtime.xla)
        # the optimizer's moments now (for every backbone layer a freeze policy may unfreeze later too), not
        # inside the first traced step: a step that creates variables is traced twice by TensorFlow (about 6 s
        # more before the first step of the nuclei example)
        prepare_optimizer(model)
        if state:
            _restore(model, run.checkpoints_dir / state["checkpoint"])
            cb.restore_seed_generator_states(model, state.get("seed_generators"))

    if callable(train_ds) and not hasattr(train_ds, "element_spec"):
        train_ds, steps = epoch_keyed_dataset(train_ds, initial_epoch=initial_epoch, epochs=settings.epochs)
        steps_per_epoch = steps_per_epoch or steps
    steps_per_epoch = steps_per_epoch or settings.steps_per_epoch

    schedule_state = (state or {}).get("schedule", {}).get("plateau")
    scheduler = cb.LearningRateScheduler(
        settings.schedule, settings.optimizer.learning_rate, settings.epochs, monitor=monitor,
        plateau_state=PlateauState.from_dict(schedule_state) if schedule_state else None)
    stopper = cb.ResumableEarlyStopping(monitor, settings.early_stopping.patience,
                                        enabled=settings.early_stopping.enabled,
                                        state=(state or {}).get("early_stopping"))
    history = run.read_history() if state else []
    history = [row for row in history if row["epoch"] <= initial_epoch]
    recorder = cb.RunRecorder(
        run, monitor=monitor, total_epochs=settings.epochs, checkpoint_every=settings.checkpoint_every,
        history=history, best=(state or {}).get("best"), best_epoch=(state or {}).get("best_epoch"),
        best_file=(state or {}).get("best_checkpoint"), best_tie=(state or {}).get("best_tie"),
        state_parts={"schedule": scheduler.state, "early_stopping": stopper.state},
        static_state={"seed": settings.seed, "steps_per_epoch": steps_per_epoch, "batch_size": batch_size,
                      "runtime": runtime.describe()},
        write_files=runtime.is_chief)
    emitter = cb.EventEmitter(sink, total_epochs=settings.epochs, initial_epoch=initial_epoch)
    callbacks = [scheduler, cb.NonFiniteLossGuard(), stopper, recorder, emitter, *extra_callbacks]
    if budget_s is not None:
        from builder.training.time_budget import PATIENCE_TIME_FRACTION, TimeBudget, budget_patience

        stopper.min_wait_s = PATIENCE_TIME_FRACTION * budget_s

        def follow_plan(planned: int) -> None:
            scheduler.total_epochs = recorder.total_epochs = emitter.total_epochs = planned
            stopper.patience = budget_patience(settings.early_stopping.patience, planned)

        budget = TimeBudget(budget_s, settings.epochs, steps_per_epoch=steps_per_epoch,
                            validation_steps=validation_steps if val_ds is not None else 0,
                            state=(state or {}).get("time_budget"), on_plan=follow_plan)
        recorder.state_parts["time_budget"] = budget.state
        callbacks.insert(2, budget)  # after the guard, before early stopping and the recorder
    if validation_score is not None and validation_score_key and val_ds is not None:
        callbacks.insert(0, cb.ValidationScoreLogger(validation_score_key, validation_score))

    sink(make_event("start", run=str(run.path), epochs=settings.epochs, initial_epoch=initial_epoch,
                    resumed=bool(state), steps_per_epoch=steps_per_epoch, monitor=monitor,
                    parameters=int(model.count_params()), **runtime.describe()))
    try:
        with translate_oom(batch_size=batch_size, patch_size=patch_size, device=runtime.device), \
                translate_disk_full(run):
            model.fit(train_ds, validation_data=val_ds, epochs=settings.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=steps_per_epoch, validation_steps=validation_steps, callbacks=callbacks,
                      class_weight=class_weight, shuffle=False, verbose=0)
    except CellwrightError as error:
        sink(make_event("error", **error.to_dict()))
        error.event_emitted = True  # callers that report errors as events need not repeat it
        raise
    except Exception as error:
        sink(make_event("error", type=type(error).__name__, what=str(error), where="", fix="",
                        traceback=traceback.format_exc()))
        raise

    completed = int(recorder.history[-1]["epoch"]) if recorder.history else initial_epoch
    result = FitResult(
        model=model, run=run, epochs_completed=completed, initial_epoch=initial_epoch, history=recorder.history,
        monitor=monitor, best_value=recorder.best, best_epoch=recorder.best_epoch,
        stopped_early=stopper.stopped_epoch is not None, runtime=runtime.describe())
    sink(make_event("done", run=str(run.path), epochs_completed=completed, best_epoch=recorder.best_epoch,
                    best_value=recorder.best, monitor=monitor, stopped_early=result.stopped_early))
    return result

"""Keras callbacks of the training engine (this module imports Keras; import it inside functions).

Order matters and :func:`builder.training.engine.fit` keeps it: learning-rate schedule, non-finite-loss guard,
early stopping, run recorder (checkpoints, history, ``state.json``), events.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from builder.errors import TrainingError
from builder.events import EventSink, make_event
from builder.io_utils import atomic_save_keras, atomic_write_json, atomic_write_text, replace_with_link
from builder.recipe.sections.train import Schedule
from builder.training.improvement import improves, tie_value
from builder.training.run_folder import RunFolder
from builder.training.schedules import PlateauState, learning_rate_at, monitor_mode


def to_float(value: Any) -> float | None:
    """A Python float from a Keras log value (tensor, NumPy scalar or float); None when not a number."""
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        return None


def current_learning_rate(model: Any) -> float:
    return float(np.asarray(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))


def _seed_variables(model: Any) -> list[Any]:
    return [v for v in model.variables if str(getattr(v, "path", getattr(v, "name", ""))).endswith(
        "seed_generator_state")]


def seed_generator_states(model: Any) -> list[list[int]]:
    """The states of the model's random generators (dropout, noise layers), in layer order.

    Keras does not store them in ``.keras`` files; ``state.json`` does, so a resumed run draws the same dropout
    masks as an uninterrupted one.
    """
    return [np.asarray(keras.ops.convert_to_numpy(v)).astype("int64").tolist() for v in _seed_variables(model)]


def restore_seed_generator_states(model: Any, states: list[list[int]] | None) -> None:
    """Put states from :func:`seed_generator_states` back (ignored when the model's generators differ)."""
    variables = _seed_variables(model)
    if not states or len(states) != len(variables):
        return
    for variable, value in zip(variables, states, strict=True):
        variable.assign(np.asarray(value, dtype=keras.backend.standardize_dtype(variable.dtype)))


class LearningRateScheduler(keras.callbacks.Callback):
    """Sets the learning rate from :mod:`builder.training.schedules` every epoch (every step while warming up)."""

    def __init__(self, schedule: Schedule, base_lr: float, total_epochs: int, *, monitor: str = "val_loss",
                 plateau_state: PlateauState | None = None) -> None:
        super().__init__()
        self.schedule = schedule
        self.base_lr = float(base_lr)
        self.total_epochs = int(total_epochs)
        self.monitor = monitor
        self.plateau = plateau_state or PlateauState(learning_rate=self.base_lr)
        self._epoch = 0

    def value_at(self, epoch: float) -> float:
        lr = learning_rate_at(self.schedule, self.base_lr, epoch, self.total_epochs)
        if self.schedule.name == "plateau" and epoch >= self.schedule.warmup_epochs:
            lr = self.plateau.learning_rate
        return lr

    def _set(self, value: float) -> None:
        self.model.optimizer.learning_rate = value

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._set(self.value_at(epoch))

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        steps = self.params.get("steps") if self.params else None
        if steps and self._epoch < self.schedule.warmup_epochs:
            self._set(self.value_at(self._epoch + batch / steps))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        logs["learning_rate"] = current_learning_rate(self.model)
        if self.schedule.name == "plateau" and epoch + 1 > self.schedule.warmup_epochs:
            monitored = to_float(logs.get(self.monitor, logs.get("loss")))
            self.plateau.update(monitored, self.schedule, mode=monitor_mode(self.monitor))

    def state(self) -> dict[str, Any]:
        return {"name": self.schedule.name, "plateau": self.plateau.to_dict()}


def non_finite_loss_error(epoch: int, batch: int | None, value: float | None, learning_rate: float | None) -> (
        TrainingError):
    """The explanation shown when the loss becomes NaN or infinite."""
    when = f"epoch {epoch + 1}" + (f", step {batch + 1}" if batch is not None else "")
    lr_text = f" (learning rate {learning_rate:.3g})" if learning_rate is not None else ""
    return TrainingError(
        where="train.optimizer.learning_rate",
        what=f"The training loss became {value} at {when}{lr_text}, so the model weights are no longer usable "
        "and training was stopped. The last good checkpoint is kept.",
        fix="Lower the learning rate (e.g. divide train.optimizer.learning_rate by 10); check the image "
        "normalisation (preprocess.normalize: inputs should be roughly 0-1 or zero-mean, with no NaN pixels in "
        "the images or targets); enable gradient clipping (train.optimizer.clipnorm: 1.0).",
    )


class ValidationScoreLogger(keras.callbacks.Callback):
    """Adds ``score(model)`` (e.g. the task's headline metric on the validation images) to each epoch's logs.

    It runs first, so the schedule, early stopping and the run recorder see the score like any Keras metric.
    """

    def __init__(self, key: str, score: Callable[[Any], float | None]) -> None:
        super().__init__()
        self.key, self.score = key, score

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        value = self.score(self.model)
        if value is not None:
            logs[self.key] = float(value)


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Stops training with a clear :class:`TrainingError` as soon as the loss is NaN or infinite."""

    def __init__(self) -> None:
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def _check(self, batch: int | None, logs: dict | None) -> None:
        value = to_float((logs or {}).get("loss"))
        if value is not None and not math.isfinite(value):
            self.model.stop_training = True
            raise non_finite_loss_error(self._epoch, batch, value, current_learning_rate(self.model))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._check(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._check(None, logs)


class ResumableEarlyStopping(keras.callbacks.Callback):
    """Early stopping whose ``best``/``wait`` live in ``state.json`` so a resumed run counts on.

    ``min_wait_s`` (set under a time budget): the epochs without improvement must also add up to at least this many
    seconds (validation included) before training stops, so short epochs on a small data set cannot end a long
    budget after a few minutes of a noisy validation score.
    """

    def __init__(self, monitor: str, patience: int, *, enabled: bool = True, min_delta: float = 0.0,
                 state: dict[str, Any] | None = None, min_wait_s: float = 0.0) -> None:
        super().__init__()
        self.monitor, self.patience, self.enabled, self.min_delta = monitor, int(patience), enabled, min_delta
        self.min_wait_s = float(min_wait_s)
        self.mode = monitor_mode(monitor)
        state = state or {}
        self.best: float | None = state.get("best")
        self.best_tie: float | None = state.get("best_tie")
        self.wait: int = int(state.get("wait", 0))
        self.waited_s: float = float(state.get("waited_s", 0.0))
        self.stopped_epoch: int | None = state.get("stopped_epoch")
        self._epoch_started: float | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = to_float((logs or {}).get(self.monitor))
        if not self.enabled or value is None or not math.isfinite(value):
            return
        tie = tie_value(logs or {}, self.monitor)
        if improves(value, self.best, mode=self.mode, tie=tie, best_tie=self.best_tie, min_delta=self.min_delta):
            self.best, self.best_tie, self.wait, self.waited_s = value, tie, 0, 0.0
            return
        self.wait += 1
        if self._epoch_started is not None:
            self.waited_s += time.monotonic() - self._epoch_started
        if self.wait >= self.patience and self.waited_s >= self.min_wait_s:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True

    def state(self) -> dict[str, Any]:
        return {"best": self.best, "best_tie": self.best_tie, "wait": self.wait, "waited_s": round(self.waited_s, 3),
                "stopped_epoch": self.stopped_epoch}


def _history_csv(history: list[dict[str, Any]]) -> str:
    keys: list[str] = []
    for row in history:
        keys.extend(k for k in row if k not in keys)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


class RunRecorder(keras.callbacks.Callback):
    """Writes, at the end of each epoch: the epoch checkpoint, a best candidate (``best-epoch-NNNN.keras``, on
    improvement: a hard link to (or copy of) that checkpoint, saved on its own only when the epoch writes no
    checkpoint), history CSV+JSON, then ``state.json``, and finally ``last.keras`` and ``best.keras``; every file
    atomically.

    ``state.json`` is written after the files it names (``checkpoint`` and ``best_checkpoint``); ``last.keras`` and
    ``best.keras`` are hard links to (or copies of) those files, made after it. A run killed at any moment
    therefore has a state.json that matches complete checkpoints and loses at most the epoch in progress; the next
    start (:func:`builder.training.leftovers.clean_run_folder`) re-points the links and removes what no state names.
    """

    def __init__(self, run: RunFolder, *, monitor: str, total_epochs: int, checkpoint_every: int = 1,
                 history: list[dict[str, Any]] | None = None, best: float | None = None, best_epoch: int | None = None,
                 best_file: str | None = None, state_parts: dict[str, Callable[[], Any]] | None = None,
                 static_state: dict[str, Any] | None = None,
                 write_files: bool = True, best_tie: float | None = None) -> None:
        super().__init__()
        self.run = run
        self.monitor, self.mode = monitor, monitor_mode(monitor)
        self.total_epochs = total_epochs
        self.checkpoint_every = max(int(checkpoint_every), 1)
        self.history = list(history or [])
        self.best, self.best_epoch = best, best_epoch
        self.best_tie = best_tie  # the tie-breaker (validation loss) at the best epoch
        self.best_file = best_file
        self.state_parts = state_parts or {}
        self.static_state = static_state or {}
        self.write_files = write_files
        self.saved_epoch: int | None = None
        self._epoch_start = time.time()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.time()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        entry: dict[str, Any] = {"epoch": epoch + 1}
        for key, value in (logs or {}).items():
            number = to_float(value)
            if number is not None:
                entry[key] = number
        entry["time_s"] = round(time.time() - self._epoch_start, 3)
        self.history.append(entry)
        value = entry.get(self.monitor, entry.get("loss"))
        tie = tie_value(entry, self.monitor)
        done = epoch + 1
        checkpoint_now = done % self.checkpoint_every == 0 or done == self.total_epochs
        if value is not None and improves(value, self.best, mode=self.mode, tie=tie, best_tie=self.best_tie):
            self.best, self.best_epoch, self.best_tie = value, done, tie
            if self.write_files:  # a candidate: best.keras points at it once state.json names it
                self.best_file = f"best-epoch-{done:04d}.keras"
                if not checkpoint_now:  # else save() links it to the epoch checkpoint (the same model state)
                    atomic_save_keras(self.model, self.run.checkpoints_dir / self.best_file)
        if checkpoint_now:
            self.save(done)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.history and self.saved_epoch != self.history[-1]["epoch"]:
            self.save(int(self.history[-1]["epoch"]))  # early stop between checkpoint epochs

    def save(self, epoch: int) -> None:
        """Write the checkpoint of finished ``epoch`` (1-based), history and state, then point last.keras at it."""
        self.saved_epoch = epoch
        if not self.write_files:
            return
        name = f"epoch-{epoch:04d}.keras"
        checkpoint = self.run.checkpoints_dir / name
        atomic_save_keras(self.model, checkpoint)
        if self.best_epoch == epoch and self.best_file:  # this epoch is the new best: one save, two names
            replace_with_link(checkpoint, self.run.checkpoints_dir / self.best_file)
        history = [row for row in self.history if row["epoch"] <= epoch]
        atomic_write_json(self.run.history_json, history)
        atomic_write_text(self.run.history_csv, _history_csv(history))
        state = {
            "epoch": epoch,
            "total_epochs": self.total_epochs,
            "checkpoint": name,
            "monitor": self.monitor,
            "mode": self.mode,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_tie": self.best_tie,
            "best_checkpoint": self.best_file,
            "optimizer_step": int(np.asarray(keras.ops.convert_to_numpy(self.model.optimizer.iterations))),
            "learning_rate": current_learning_rate(self.model),
            "stop_training": bool(self.model.stop_training),
            "seed_generators": seed_generator_states(self.model),
            **self.static_state,
            **{key: part() for key, part in self.state_parts.items()},
        }
        atomic_write_json(self.run.state_path, state)  # the commit point: the files above are complete
        replace_with_link(checkpoint, self.run.last_checkpoint)
        if self.best_file:
            replace_with_link(self.run.checkpoints_dir / self.best_file, self.run.best_checkpoint)
        for pattern in ("epoch-*.keras", "best-epoch-*.keras"):
            for old in self.run.checkpoints_dir.glob(pattern):
                if old.name not in (name, self.best_file):
                    old.unlink(missing_ok=True)


class EventEmitter(keras.callbacks.Callback):
    """Emits ``epoch`` and (at most every ``batch_interval_s`` seconds) ``batch`` events with an ETA."""

    def __init__(self, sink: EventSink, *, total_epochs: int, initial_epoch: int = 0,
                 batch_interval_s: float = 0.5) -> None:
        super().__init__()
        self.sink, self.total_epochs, self.initial_epoch = sink, total_epochs, initial_epoch
        self.batch_interval_s = batch_interval_s
        self._train_start = time.time()
        self._epoch_start = time.time()
        self._last_batch_event = 0.0
        self._epoch = initial_epoch

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._train_start = time.time()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch, self._epoch_start = epoch, time.time()

    def _eta(self, epochs_done: float) -> float | None:
        elapsed = time.time() - self._train_start
        done_here = epochs_done - self.initial_epoch
        if done_here <= 0:
            return None
        return max(elapsed / done_here * (self.total_epochs - epochs_done), 0.0)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        steps = self.params.get("steps") if self.params else None
        now = time.time()
        last = steps is not None and batch + 1 >= steps
        if now - self._last_batch_event < self.batch_interval_s and not last:
            return
        self._last_batch_event = now
        fraction = (batch + 1) / steps if steps else 0.0
        metrics = {k: to_float(v) for k, v in (logs or {}).items() if to_float(v) is not None}
        self.sink(make_event("batch", epoch=self._epoch + 1, epochs=self.total_epochs, step=batch + 1, steps=steps,
                             metrics=metrics, eta_s=_round(self._eta(self._epoch + fraction))))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        metrics = {k: to_float(v) for k, v in (logs or {}).items() if to_float(v) is not None}
        self.sink(make_event("epoch", epoch=epoch + 1, epochs=self.total_epochs, metrics=metrics,
                             learning_rate=metrics.get("learning_rate"),
                             epoch_time_s=round(time.time() - self._epoch_start, 3),
                             eta_s=_round(self._eta(epoch + 1))))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)

"""``train.time_budget``: fit the number of epochs (and the learning-rate schedule) to a training time.

The step time is measured during the first epoch (after the first step, which includes graph tracing); from
then on the length of the last few epochs, validation and checkpoints included, sets how many epochs still fit.
The plan is updated after every epoch, so a machine that slows down (or speeds up) gets fewer (or more) epochs;
training stops at the end of the last epoch that fits. The time used so far is stored in ``state.json``, so a
resumed run gets only what is left of the budget. This module imports Keras: import it inside functions.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras

#: Steps of the first epoch timed before the first plan (after the first step, which traces the graph).
TIMED_STEPS = 5
#: Epoch lengths averaged for the plan (the most recent ones).
RECENT_EPOCHS = 3
#: A validation batch costs about this fraction of a training step (forward pass only), for the first plan.
VALIDATION_STEP_FRACTION = 0.4
#: With a budget, early-stopping patience is at most this fraction of the planned epochs ...
PATIENCE_FRACTION = 1 / 3
#: ... and at least this many epochs.
MIN_BUDGET_PATIENCE = 5
#: With a budget, early stopping also waits until the epochs without improvement add up to this fraction of the
#: budget (short epochs on small data sets stopped 10-minute budgets after 93 s and 165 s of a noisy validation AP).
PATIENCE_TIME_FRACTION = 0.2


def epochs_that_fit(done: int, elapsed_s: float, budget_s: float, epoch_s: float, max_epochs: int) -> int:
    """Total epochs planned: ``done`` plus as many epochs of ``epoch_s`` as fit in the rest of the budget.

    At least ``done`` (nothing more fits), at most ``max_epochs`` (``train.epochs``), and at least 1 in all.

    Examples
    --------
    >>> epochs_that_fit(2, 20.0, 100.0, 10.0, 50)
    10
    >>> epochs_that_fit(2, 95.0, 100.0, 10.0, 50)
    2
    """
    if epoch_s <= 0 or not math.isfinite(epoch_s):
        return max_epochs
    more = math.floor(max(budget_s - elapsed_s, 0.0) / epoch_s + 1e-9)
    return max(1, min(max_epochs, done + more))


def budget_patience(patience: int, planned_epochs: int) -> int:
    """Early-stopping patience under a budget: the recipe's, but at most a third of the planned epochs (>= 5)."""
    return max(1, min(int(patience), max(MIN_BUDGET_PATIENCE, math.ceil(planned_epochs * PATIENCE_FRACTION))))


class TimeBudget(keras.callbacks.Callback):
    """Plans the number of epochs from measured step and epoch times and stops when the next epoch would not fit.

    Parameters
    ----------
    budget_s : float
        The whole budget in seconds (``train.time_budget``).
    max_epochs : int
        ``train.epochs``: never more epochs than this.
    steps_per_epoch, validation_steps : int, optional
        Training and validation batches per epoch, for the first plan (made during the first epoch).
    state : dict, optional
        ``state.json``'s ``time_budget`` part of a resumed run (time used so far, the plan, epoch lengths).
    on_plan : callable, optional
        Called with the planned total epochs each time the plan changes (the schedule and early stopping follow).
    """

    def __init__(self, budget_s: float, max_epochs: int, *, steps_per_epoch: int | None = None,
                 validation_steps: int | None = None, state: dict[str, Any] | None = None,
                 on_plan: Any = None) -> None:
        super().__init__()
        state = state or {}
        self.budget_s, self.max_epochs = float(budget_s), int(max_epochs)
        self.steps_per_epoch, self.validation_steps = steps_per_epoch, validation_steps
        self.used_before_s = float(state.get("used_s", 0.0))
        self.planned_epochs = int(state.get("planned_epochs") or max_epochs)
        self.epoch_times: list[float] = [float(t) for t in state.get("epoch_times_s", [])]
        self.exhausted = bool(state.get("exhausted", False))
        self.on_plan = on_plan
        self._start = time.monotonic()
        self._epoch_start = self._start
        self._first_step_end: float | None = None
        self._last_end: float | None = None
        self._first_epoch_here = True
        self._done = 0

    def used_s(self) -> float:
        """Seconds of the budget used: earlier sessions of this run plus this one so far."""
        return self.used_before_s + (time.monotonic() - self._start)

    def _plan(self, done: int, epoch_s: float) -> None:
        planned = epochs_that_fit(done, self.used_s(), self.budget_s, epoch_s, self.max_epochs)
        if planned != self.planned_epochs:
            self.planned_epochs = planned
            if self.on_plan is not None:
                self.on_plan(planned)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.monotonic()
        if self.on_plan is not None and self.planned_epochs != self.max_epochs:
            self.on_plan(self.planned_epochs)  # a resumed run continues the plan it had

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.monotonic()
        self._done = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self._first_epoch_here or self.epoch_times:
            return  # the first plan only: later epochs are planned from whole epoch lengths
        now = time.monotonic()
        if batch == 0:
            self._first_step_end = now
            return
        steps = self.steps_per_epoch or (self.params or {}).get("steps")
        if self._first_step_end is None or not steps or batch != min(TIMED_STEPS, steps - 1):
            return
        step_s = (now - self._first_step_end) / batch
        validation = (self.validation_steps or 0) * step_s * VALIDATION_STEP_FRACTION
        remaining_here = (steps - batch - 1) * step_s + validation
        # the epoch in progress ends after remaining_here; after it, epochs of steps * step_s + validation
        per_epoch = steps * step_s + validation
        planned = epochs_that_fit(self._done + 1, self.used_s() + remaining_here, self.budget_s, per_epoch,
                                  self.max_epochs)
        if planned != self.planned_epochs:
            self.planned_epochs = planned
            if self.on_plan is not None:
                self.on_plan(planned)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.monotonic()
        if not self._first_epoch_here and self._last_end is not None:
            self.epoch_times.append(now - self._last_end)  # from the end of the last one: checkpoints included
        else:
            first = now - self._epoch_start
            traced = (self._first_step_end - self._epoch_start) if self._first_step_end else 0.0
            steps = self.steps_per_epoch or (self.params or {}).get("steps") or 1
            # the first epoch of a session includes graph tracing: count its first step as an average one
            self.epoch_times.append(max(first - traced + traced / max(steps, 1), first * 0.5))
        self._first_epoch_here = False
        self._last_end = now
        self.epoch_times = self.epoch_times[-RECENT_EPOCHS:]
        recent = sum(self.epoch_times) / len(self.epoch_times)
        self._plan(epoch + 1, recent)
        if epoch + 1 >= self.planned_epochs and epoch + 1 < self.max_epochs:
            self.exhausted = True
            self.model.stop_training = True

    def state(self) -> dict[str, Any]:
        """The part of ``state.json`` a resumed run continues from."""
        return {"budget_s": self.budget_s, "used_s": round(self.used_s(), 3), "planned_epochs": self.planned_epochs,
                "epoch_times_s": [round(t, 3) for t in self.epoch_times], "exhausted": self.exhausted}

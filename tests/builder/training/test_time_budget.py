"""``train.time_budget`` in the fit loop: the run ends within the budget, the schedule decays over the epochs that
fit, ``epochs`` stays the upper limit, and a resumed run gets only what is left (tiny models, CPU)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import pytest

from builder.training.engine import fit
from builder.training.run_folder import create_run_folder, open_run_folder
from builder.training.time_budget import budget_patience, epochs_that_fit
from tests.builder.training.training_helpers import LOSS, arrays, make_epoch_fn, settings, tiny_model, val_dataset

#: Slack for the last epoch and for checkpoint writing on a busy shared CPU (the plan is not a timed assert).
SLACK_S = 15.0
#: The smallest budget: graph tracing alone makes the first epoch of a session take 5-12 s on a busy 2-core CPU.
BUDGET_S = 30.0
#: A budget holds at least this many first epochs (CI once took 15+ s for one, and then 30 s held only one).
FIRST_EPOCHS_PER_BUDGET = 5


def _fit(run, train, extra=()):
    x, y = arrays()
    return fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=train, run=run, loss=LOSS,
               metrics=["accuracy"], extra_callbacks=list(extra), resume=run.state_path.is_file())


def _budget_for_this_machine(tmp_path: Path, seconds: float) -> float:
    """``BUDGET_S``, or more where a first epoch (graph tracing included) is slow on this machine right now.

    A budget that one first epoch nearly fills leaves a plan of one epoch; that is right for the product, but the
    tests below are about what happens over several epochs.
    """
    run = create_run_folder(tmp_path / "runs", "measure-first-epoch", environment=False)
    started = time.monotonic()
    _fit(run, settings(epochs=1, schedule={"name": "constant"}), [SlowEpochs(seconds)])
    return max(BUDGET_S, FIRST_EPOCHS_PER_BUDGET * (time.monotonic() - started))


class SlowEpochs(keras.callbacks.Callback):
    """Makes each epoch take at least ``seconds`` (a stand-in for a bigger model); raises after ``crash_after``."""

    def __init__(self, seconds: float, crash_after: int | None = None) -> None:
        super().__init__()
        self.seconds, self.crash_after = seconds, crash_after

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            time.sleep(self.seconds)

    def on_epoch_end(self, epoch, logs=None):
        if self.crash_after is not None and epoch + 1 >= self.crash_after:
            raise RuntimeError("interrupted")


def test_epochs_that_fit_and_patience():
    assert epochs_that_fit(done=2, elapsed_s=20, budget_s=100, epoch_s=10, max_epochs=50) == 2 + 8
    assert epochs_that_fit(done=2, elapsed_s=20, budget_s=100, epoch_s=10, max_epochs=6) == 6
    assert epochs_that_fit(done=3, elapsed_s=99, budget_s=100, epoch_s=10, max_epochs=50) == 3
    assert budget_patience(20, planned_epochs=30) == 10
    assert budget_patience(20, planned_epochs=6) == 5
    assert budget_patience(3, planned_epochs=300) == 3


def test_budget_of_seconds_ends_the_run_within_it(tmp_path: Path):
    budget = _budget_for_this_machine(tmp_path, 0.5)
    run = create_run_folder(tmp_path / "runs", "budget", environment=False)
    train = settings(epochs=100_000, time_budget=f"{budget:g}s", early_stopping={"enabled": False},
                     schedule={"name": "cosine", "min_learning_rate": 0.0})
    started = time.monotonic()
    result = _fit(run, train, [SlowEpochs(0.5)])
    wall = time.monotonic() - started
    state = json.loads(run.state_path.read_text())
    history = json.loads(run.history_json.read_text())
    assert 2 <= result.epochs_completed < 100_000
    assert state["stop_training"] and state["time_budget"]["exhausted"]
    assert state["time_budget"]["planned_epochs"] == result.epochs_completed == len(history)
    assert state["time_budget"]["used_s"] <= budget + SLACK_S
    assert sum(row["time_s"] for row in history) <= budget + SLACK_S
    assert state["time_budget"]["used_s"] <= wall
    # the cosine schedule decayed over the epochs that fit, not over 100 000 epochs
    assert history[-1]["learning_rate"] < 0.5 * train.optimizer.learning_rate


def test_epochs_stay_the_upper_limit_under_a_long_budget(tmp_path: Path):
    run = create_run_folder(tmp_path / "runs", "short", environment=False)
    result = _fit(run, settings(epochs=3, time_budget="1h"))
    state = json.loads(run.state_path.read_text())
    assert result.epochs_completed == 3
    assert not state["stop_training"] and not state["time_budget"]["exhausted"]


def test_resumed_run_gets_only_what_is_left_of_the_budget(tmp_path: Path):
    budget = _budget_for_this_machine(tmp_path, 0.5)
    run = create_run_folder(tmp_path / "runs", "resume", environment=False)
    train = settings(epochs=100_000, time_budget=f"{budget:g}s", early_stopping={"enabled": False})
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(run, train, [SlowEpochs(0.5, crash_after=1)])
    first = json.loads(run.state_path.read_text())
    used_first = first["time_budget"]["used_s"]
    assert first["epoch"] == 1 and used_first >= 0.5

    run = open_run_folder(run.path)
    _fit(run, train, [SlowEpochs(0.5)])
    final = json.loads(run.state_path.read_text())
    history = json.loads(run.history_json.read_text())
    resumed_time = sum(row["time_s"] for row in history if row["epoch"] > first["epoch"])
    assert final["time_budget"]["exhausted"]
    # the first session's time was carried over: the total is both sessions' epochs, not the second's alone
    assert final["time_budget"]["used_s"] >= used_first + 0.9 * resumed_time
    assert final["time_budget"]["used_s"] <= budget + SLACK_S
    assert resumed_time <= budget - used_first + SLACK_S


def test_under_a_budget_early_stopping_waits_a_fifth_of_it(tmp_path: Path):
    """Patience counted in short epochs alone ended long budgets after a few minutes of a noisy validation score:
    with a budget the epochs without improvement must also last a fifth of it."""
    from builder.training.time_budget import PATIENCE_TIME_FRACTION

    frozen = {"optimizer": {"name": "adam", "learning_rate": 1e-12}, "schedule": {"name": "constant"},
              "early_stopping": {"patience": 2, "monitor": "val_accuracy"}}  # nothing improves after epoch 1
    run = create_run_folder(tmp_path / "runs", "no-budget", environment=False)
    without = _fit(run, settings(epochs=100, **frozen), [SlowEpochs(0.3)])
    assert without.epochs_completed == 3  # the best epoch and two more

    run = create_run_folder(tmp_path / "runs", "budget", environment=False)
    budget = _budget_for_this_machine(tmp_path, 0.3)
    result = _fit(run, settings(epochs=100, time_budget=f"{budget:g}s", **frozen), [SlowEpochs(0.3)])
    state = json.loads(run.state_path.read_text())
    stopper = state["early_stopping"]
    assert stopper["stopped_epoch"] == result.epochs_completed > 3  # stopped early, later than patience alone
    assert stopper["waited_s"] >= PATIENCE_TIME_FRACTION * budget
    history = json.loads(run.history_json.read_text())
    assert sum(row["time_s"] for row in history[1:]) >= PATIENCE_TIME_FRACTION * budget

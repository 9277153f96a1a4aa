"""fit(): checkpoints, resume after SIGKILL, NaN stop, events, reproducibility (tiny models, CPU)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from builder.errors import TrainingError
from builder.events import json_lines_sink, parse_event_line
from builder.training.engine import fit
from builder.training.run_folder import create_run_folder, open_run_folder
from builder.training.schedules import learning_rate_at
from tests.builder.training.training_helpers import (
    LOSS,
    SIZE,
    arrays,
    make_epoch_fn,
    settings,
    tiny_model,
    val_dataset,
    weights,
)

HELPERS = Path(__file__).with_name("training_helpers.py")


def _fit(tmp_path: Path, name: str, **kwargs):
    x, y = arrays()
    run = create_run_folder(tmp_path / "runs", name, environment=False)
    train = kwargs.pop("settings", settings())
    return fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=train, run=run, loss=LOSS,
               metrics=["accuracy"], **kwargs)


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory):
    """One uninterrupted 4-epoch run shared by several tests (tracing a model costs seconds on a busy CPU)."""
    import keras

    stream = io.StringIO()
    saves: list[str] = []
    save_dense = keras.layers.Dense.save_own_variables

    def counting(layer: Any, store: Any) -> None:  # tiny_model has one Dense layer: one call per .keras file
        saves.append(layer.name)
        save_dense(layer, store)

    keras.layers.Dense.save_own_variables = counting
    try:
        result = _fit(tmp_path_factory.mktemp("straight"), "straight", events=json_lines_sink(stream))
    finally:
        keras.layers.Dense.save_own_variables = save_dense
    result.saves = len(saves)
    return result, stream.getvalue()


def test_checkpoints_best_and_last_are_written_and_loadable(straight) -> None:
    import keras

    result, _ = straight
    run = result.run
    assert result.epochs_completed == 4
    best_file = f"best-epoch-{result.best_epoch:04d}.keras"
    assert sorted(p.name for p in run.checkpoints_dir.iterdir()) == sorted(
        {"best.keras", best_file, "epoch-0004.keras", "last.keras"})
    assert (run.checkpoints_dir / "best.keras").samefile(run.checkpoints_dir / best_file)
    last = keras.models.load_model(run.last_checkpoint)
    for a, b in zip(weights(last), weights(result.model), strict=True):
        np.testing.assert_array_equal(a, b)
    best = keras.models.load_model(run.best_checkpoint)
    x, _ = arrays()
    assert best.predict(x[:2], verbose=0).shape == (2, 2)
    history = json.loads(run.history_json.read_text())
    val_losses = [row["val_loss"] for row in history]
    assert result.best_epoch == int(np.argmin(val_losses)) + 1
    assert result.best_value == pytest.approx(min(val_losses))
    assert run.history_csv.read_text().splitlines()[0].startswith("epoch,")
    assert len(run.history_csv.read_text().splitlines()) == 5
    state = json.loads(run.state_path.read_text())
    assert state["epoch"] == 4 and state["optimizer_step"] == 16 and state["checkpoint"] == "epoch-0004.keras"
    assert state["best_checkpoint"] == best_file and state["best_epoch"] == result.best_epoch
    assert not list(run.path.rglob("*.tmp"))


def test_an_improving_epoch_saves_the_model_once(straight) -> None:
    """A new best epoch's candidate is a link to its checkpoint, not a second save of the same model (seconds per
    improving epoch for a U-Net)."""
    result, _ = straight
    improving = [i for i, row in enumerate(result.history)
                 if all(row["val_loss"] < r["val_loss"] for r in result.history[:i])]
    assert len(improving) >= 2  # epoch 1 and at least one later epoch: each saved once
    assert result.saves == result.epochs_completed


def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path: Path, straight) -> None:
    run = create_run_folder(tmp_path / "runs", "crash", environment=False)
    proc = subprocess.run([sys.executable, str(HELPERS), "kill", str(run.path), "2"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]
    state = json.loads(run.state_path.read_text())
    assert state["epoch"] == 2 and run.last_checkpoint.is_file()

    x, y = arrays()
    events: list[dict] = []
    resumed = fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=settings(),
                  run=open_run_folder(run.path), loss=LOSS, metrics=["accuracy"], resume=True, events=events.append)
    assert events[0]["event"] == "start" and events[0]["initial_epoch"] == 2 and events[0]["resumed"]
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [3, 4]
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3, 4]
    train = settings()
    expected_lr = learning_rate_at(train.schedule, train.optimizer.learning_rate, 2, train.epochs)
    assert resumed.history[2]["learning_rate"] == pytest.approx(expected_lr, rel=1e-6)
    assert int(resumed.model.optimizer.iterations.numpy()) == 16

    straight, _ = straight
    # Same seed, per-epoch data order, restored optimizer moments and dropout generator state, deterministic CPU
    # ops: the resumed weights are bit-identical to the uninterrupted run.
    for a, b in zip(weights(resumed.model), weights(straight.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in straight.history]

    with pytest.raises(TrainingError, match="nothing to resume"):
        fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=settings(), run=run.__class__(run.path),
            loss=LOSS, resume=True)


def _linear_model() -> Any:
    """No ReLU: some CPU kernels turn relu(NaN) into 0, which would hide the NaN pixels from the loss."""
    import keras

    inputs = keras.Input((SIZE, SIZE, 1))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def test_nan_loss_stops_with_an_explanation(tmp_path: Path) -> None:
    import tensorflow as tf

    x, y = arrays()
    x[5] = np.nan  # an unnormalised image with NaN pixels
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    run = create_run_folder(tmp_path / "runs", "nan", environment=False)
    events: list[dict] = []
    with pytest.raises(TrainingError) as caught:
        fit(_linear_model, ds, None, settings=settings(), run=run, loss=LOSS, events=events.append)
    text = caught.value.format()
    assert "became nan at epoch 1, step 1" in text
    assert "Lower the learning rate" in text and "normalisation" in text and "clipnorm" in text
    assert caught.value.where == "train.optimizer.learning_rate"
    assert events[-1]["event"] == "error" and "Lower the learning rate" in events[-1]["fix"]
    assert not run.state_path.exists()


def test_events_stream_round_trips_through_json_lines(straight) -> None:
    result, text = straight
    parsed = [parse_event_line(line) for line in text.splitlines()]
    assert all(event is not None for event in parsed)
    names = [e["event"] for e in parsed if e["event"] != "batch"]
    assert names == ["start", "epoch", "epoch", "epoch", "epoch", "done"]
    epochs = [e for e in parsed if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    assert {"loss", "val_loss", "accuracy"} <= set(epochs[0]["metrics"]) and epochs[-1]["eta_s"] == 0.0
    assert any(e["event"] == "batch" and e["steps"] == 4 for e in parsed)
    assert parsed[-1]["epochs_completed"] == 4
    on_disk = [parse_event_line(line) for line in result.run.events_path.read_text().splitlines()]
    assert [e["event"] for e in on_disk] == [e["event"] for e in parsed]


def test_same_seed_same_weights_on_cpu(tmp_path: Path, straight) -> None:
    first, _ = straight
    second = _fit(tmp_path, "again")
    for a, b in zip(weights(first.model), weights(second.model), strict=True):
        np.testing.assert_array_equal(a, b)
    other = _fit(tmp_path, "other-seed", settings=settings(epochs=1, seed=4, schedule={"name": "constant"}))
    assert any(not np.array_equal(a, c) for a, c in zip(weights(first.model), weights(other.model), strict=True))


def test_early_stopping_and_plateau_state_are_saved(tmp_path: Path) -> None:
    train = settings(epochs=6, optimizer={"name": "sgd", "learning_rate": 1e-9},
                     schedule={"name": "plateau", "patience": 1, "factor": 0.5, "min_learning_rate": 0.0},
                     early_stopping={"patience": 2, "monitor": "val_loss"})
    result = _fit(tmp_path, "stop", settings=train)
    assert result.stopped_early and result.epochs_completed < 6
    state = json.loads(result.run.state_path.read_text())
    assert state["epoch"] == result.epochs_completed and state["stop_training"]
    assert state["early_stopping"]["stopped_epoch"] == result.epochs_completed
    assert state["schedule"]["plateau"]["learning_rate"] < 1e-9


#: Where a SIGKILL lands at the end of an improving epoch E: inside the save of epoch-E.keras (the only full save
#: of that epoch; best-epoch-E.keras is a link to it), after both files but before state.json names them, and after
#: state.json but before last.keras and best.keras point at them.
KILL_POINTS = {
    "inside the checkpoint save": lambda epoch: ["kill-in-save", str(epoch)],
    "before state.json": lambda epoch: ["kill-before", "state.json", str(epoch)],
    "before last.keras": lambda epoch: ["kill-before", "last.keras", str(epoch)],
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_kill_at_any_point_of_a_checkpoint_leaves_a_loadable_consistent_run(tmp_path: Path, straight,
                                                                               point: str) -> None:
    """SIGKILL at each step of an improving epoch's checkpoint: the run folder still holds loadable last.keras and
    best.keras, the next start removes what no state names and re-points the links, and resuming is exact."""
    import keras

    from builder.training.leftovers import clean_run_folder

    straight, _ = straight
    val = [row["val_loss"] for row in straight.history]
    epoch = next(e for e in range(2, 5) if val[e - 1] < min(val[:e - 1]))  # improves on the epochs before it
    run = create_run_folder(tmp_path / "runs", "killed", environment=False)
    proc = subprocess.run([sys.executable, str(HELPERS), KILL_POINTS[point](epoch)[0], str(run.path),
                           *KILL_POINTS[point](epoch)[1:]], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]
    state = json.loads(run.state_path.read_text())
    checkpoints = run.checkpoints_dir
    this_epoch, this_best = checkpoints / f"epoch-{epoch:04d}.keras", checkpoints / f"best-epoch-{epoch:04d}.keras"
    if point == "inside the checkpoint save":
        assert state["epoch"] == epoch - 1 and not this_epoch.exists() and not this_best.exists()
        assert len(list(checkpoints.glob(f".epoch-{epoch:04d}.keras.*.tmp.keras"))) == 1
    elif point == "before state.json":
        assert state["epoch"] == epoch - 1 and this_best.samefile(this_epoch)  # written, not yet confirmed
    else:
        assert state["epoch"] == epoch and state["best_checkpoint"] == this_best.name
        assert not run.last_checkpoint.samefile(this_epoch)  # still the previous epoch's
    for link in (run.last_checkpoint, run.best_checkpoint):  # usable as they are, before any cleaning
        assert keras.models.load_model(link).predict(arrays()[0][:2], verbose=0).shape == (2, 2)

    removed = clean_run_folder(run.path, state)
    named = {state["checkpoint"], state["best_checkpoint"], "last.keras", "best.keras"}
    assert {p.name for p in checkpoints.iterdir()} == named and all(p.name not in named for p in removed)
    assert run.last_checkpoint.samefile(checkpoints / state["checkpoint"])
    assert run.best_checkpoint.samefile(checkpoints / state["best_checkpoint"])
    assert not [p for p in run.path.rglob(".*") if p.is_file()]
    x, y = arrays()
    resumed = fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=settings(),
                  run=open_run_folder(run.path), loss=LOSS, metrics=["accuracy"], resume=True)
    for a, b in zip(weights(resumed.model), weights(straight.model), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights(keras.models.load_model(run.best_checkpoint)),
                    weights(keras.models.load_model(straight.run.best_checkpoint)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert json.loads(run.state_path.read_text())["best_epoch"] == straight.best_epoch


def test_a_tied_score_keeps_the_epoch_with_the_lower_validation_loss(tmp_path: Path) -> None:
    """Validation accuracy saturates at 1.0 on easy data; among the epochs that reach it, the best checkpoint is
    the one that fits the validation images best (lowest val_loss), not the first one, and early stopping does
    not stop while the tied score's validation loss keeps falling."""
    x, y = arrays()
    x = x + 3.0 * y[:, None, None, None]  # classes far apart: accuracy reaches 1 early, the loss keeps falling
    run = create_run_folder(tmp_path / "runs", "ties", environment=False)
    train = settings(epochs=8, early_stopping={"monitor": "val_accuracy", "patience": 2})
    result = fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=train, run=run, loss=LOSS,
                 metrics=["accuracy"])
    history = json.loads(run.history_json.read_text())
    top = max(row["val_accuracy"] for row in history)
    tied = [row for row in history if row["val_accuracy"] == top]
    assert len(tied) >= 2 and tied[0]["epoch"] < min(tied, key=lambda r: r["val_loss"])["epoch"]  # a real tie
    assert result.best_epoch == min(tied, key=lambda r: r["val_loss"])["epoch"]
    state = json.loads(run.state_path.read_text())
    assert state["best_tie"] == pytest.approx(min(r["val_loss"] for r in tied))
    assert state["best_checkpoint"] == f"best-epoch-{result.best_epoch:04d}.keras"


def test_the_training_step_is_traced_once(tmp_path: Path) -> None:
    """Optimizer moments created inside the first traced step make TensorFlow trace the step twice (seconds of
    start-up for a U-Net): they are built before training starts. (Compiled metrics such as accuracy still
    create their counters in the first trace; the instance and image-to-image tasks compile none.)"""
    import keras

    traces: list[int] = []

    class CountingModel(keras.Model):
        def train_step(self, data: Any) -> Any:
            traces.append(1)  # Python runs only while TensorFlow traces the step
            return super().train_step(data)

    def counting_model() -> Any:
        plain = tiny_model()
        return CountingModel(plain.inputs, plain.outputs)

    x, y = arrays()
    run = create_run_folder(tmp_path / "runs", "traces", environment=False)
    fit(counting_model, make_epoch_fn(x, y), val_dataset(x, y), settings=settings(epochs=2), run=run, loss=LOSS)
    assert len(traces) == 1

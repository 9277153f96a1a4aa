"""Learning-rate schedule values at given epochs (pure Python, no TensorFlow)."""

from __future__ import annotations

import math

import pytest

from builder.recipe.sections.train import Schedule
from builder.training.schedules import PlateauState, learning_rate_at, monitor_mode, warmup_factor


def test_cosine_goes_from_base_to_floor() -> None:
    s = Schedule(name="cosine", min_learning_rate=0.0)
    assert learning_rate_at(s, 1.0, 0, 10) == pytest.approx(1.0)
    assert learning_rate_at(s, 1.0, 5, 10) == pytest.approx(0.5)
    assert learning_rate_at(s, 1.0, 2.5, 10) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    assert learning_rate_at(s, 1.0, 10, 10) == pytest.approx(0.0)
    floored = Schedule(name="cosine", min_learning_rate=0.1)
    assert learning_rate_at(floored, 1.0, 10, 10) == pytest.approx(0.1)


def test_step_drops_every_step_epochs() -> None:
    s = Schedule(name="step", step_epochs=3, factor=0.1, min_learning_rate=1e-4)
    values = [learning_rate_at(s, 1.0, e, 20) for e in (0, 2, 3, 5, 6, 9, 12)]
    assert values == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 1e-3, 1e-4])


def test_warmup_is_linear_then_schedule_starts_after_it() -> None:
    s = Schedule(name="cosine", warmup_epochs=2, min_learning_rate=0.0)
    assert learning_rate_at(s, 1.0, 0, 12) == pytest.approx(0.01)
    assert learning_rate_at(s, 1.0, 1, 12) == pytest.approx(0.505)
    assert learning_rate_at(s, 1.0, 2, 12) == pytest.approx(1.0)
    assert learning_rate_at(s, 1.0, 7, 12) == pytest.approx(0.5)
    assert warmup_factor(5, 0) == 1.0
    step = Schedule(name="step", warmup_epochs=1, step_epochs=2, factor=0.5)
    assert learning_rate_at(step, 2.0, 3, 10) == pytest.approx(1.0)


def test_constant_and_plateau_keep_the_base_rate_without_state() -> None:
    assert learning_rate_at(Schedule(name="constant"), 0.3, 7, 10) == 0.3
    assert learning_rate_at(Schedule(name="plateau"), 0.3, 7, 10) == 0.3


def test_plateau_state_drops_after_patience_and_round_trips() -> None:
    s = Schedule(name="plateau", patience=2, factor=0.5, min_learning_rate=0.2)
    state = PlateauState(learning_rate=1.0)
    dropped = [state.update(v, s) for v in (1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94, 0.96)]
    assert dropped == [False, False, False, True, False, True, False, True]
    assert state.learning_rate == pytest.approx(0.2)  # 1 -> 0.5 -> 0.25 -> floor 0.2
    assert state.update(0.99, s) is False and state.update(0.99, s) is False and state.learning_rate == 0.2
    again = PlateauState.from_dict(state.to_dict())
    assert again == state
    assert again.update(float("nan"), s) is False


def test_plateau_respects_the_floor() -> None:
    s = Schedule(name="plateau", patience=1, factor=0.5, min_learning_rate=0.4)
    state = PlateauState(learning_rate=1.0, best=0.0)
    for _ in range(5):
        state.update(1.0, s)
    assert state.learning_rate == pytest.approx(0.4)


def test_monitor_mode() -> None:
    assert monitor_mode("val_loss") == "min"
    assert monitor_mode("val_accuracy") == "max"
    assert monitor_mode("val_mean_io_u") == "max"

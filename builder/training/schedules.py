"""Learning-rate schedules over epochs: constant, cosine, step and reduce-on-plateau, each with linear warm-up.

The learning rate is a pure function of the (fractional) epoch for constant, cosine and step, so a resumed run
gets exactly the value it would have had. Reduce-on-plateau keeps a small state (``PlateauState``) that the
engine stores in ``state.json``. The Keras callback that applies these is
:class:`builder.training.callbacks.LearningRateScheduler`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from builder.recipe.sections.train import Schedule

#: Warm-up starts at this fraction of the base learning rate.
WARMUP_START_FRACTION = 0.01


def warmup_factor(epoch: float, warmup_epochs: int) -> float:
    """Linear warm-up multiplier in ``[WARMUP_START_FRACTION, 1]`` at (fractional) ``epoch`` (0-based)."""
    if warmup_epochs <= 0 or epoch >= warmup_epochs:
        return 1.0
    fraction = max(epoch, 0.0) / warmup_epochs
    return WARMUP_START_FRACTION + (1.0 - WARMUP_START_FRACTION) * fraction


def learning_rate_at(schedule: Schedule, base_lr: float, epoch: float, total_epochs: int) -> float:
    """Learning rate at (fractional, 0-based) ``epoch`` for the constant, cosine and step schedules.

    Parameters
    ----------
    schedule : Schedule
        The recipe's ``train.schedule`` section.
    base_lr : float
        ``train.optimizer.learning_rate``.
    epoch : float
        0-based epoch; ``2.5`` is half-way through the third epoch.
    total_epochs : int
        ``train.epochs``.

    Returns
    -------
    float
        The learning rate; for ``plateau`` this is the warm-up value only (the drops need
        :class:`PlateauState`).

    Examples
    --------
    >>> from builder.recipe.sections.train import Schedule
    >>> learning_rate_at(Schedule(name="step", step_epochs=2, factor=0.5), 1.0, 4, 10)
    0.25
    """
    warm = schedule.warmup_epochs
    floor = min(schedule.min_learning_rate, base_lr)
    if epoch < warm:
        return base_lr * warmup_factor(epoch, warm)
    if schedule.name in ("constant", "plateau"):
        return base_lr
    if schedule.name == "step":
        drops = int((epoch - warm + 1e-9) // schedule.step_epochs)
        return max(base_lr * schedule.factor**drops, floor)
    if schedule.name == "cosine":
        span = max(total_epochs - warm, 1)
        progress = min(max((epoch - warm) / span, 0.0), 1.0)
        return floor + (base_lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(
        f"Invalid value received for argument `schedule.name`. Expected one of constant, cosine, step, plateau. "
        f"Received: name={schedule.name!r}"
    )


@dataclass
class PlateauState:
    """Reduce-on-plateau state, stored in ``state.json`` so a resumed run continues the same way."""

    learning_rate: float
    best: float | None = None
    wait: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlateauState:
        return cls(learning_rate=float(data["learning_rate"]), best=data.get("best"), wait=int(data.get("wait", 0)))

    def update(self, value: float | None, schedule: Schedule, *, mode: str = "min", min_delta: float = 1e-4) -> bool:
        """Record one epoch's monitored ``value``; return True when the learning rate was lowered."""
        if value is None or not math.isfinite(value):
            return False
        improved = self.best is None or (
            value < self.best - min_delta if mode == "min" else value > self.best + min_delta
        )
        if improved:
            self.best = float(value)
            self.wait = 0
            return False
        self.wait += 1
        if self.wait >= schedule.patience:
            new_lr = max(self.learning_rate * schedule.factor, schedule.min_learning_rate)
            self.wait = 0
            if new_lr < self.learning_rate:
                self.learning_rate = new_lr
                return True
        return False


def monitor_mode(monitor: str) -> str:
    """``"min"`` for losses and errors, ``"max"`` for scores such as accuracy, IoU or Dice."""
    name = monitor.lower()
    if any(word in name for word in ("loss", "error", "mae", "mse", "nrmse")):
        return "min"
    return "max"


"""The guard: a retrained model replaces the current one only if it is not worse on the guard set.

The guard set is a few images a person labelled once (``guard`` rows of ``annotation_status.csv``); both model
versions are scored on exactly these images with the task's headline metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GuardDecision:
    """Which model version won on the guard set, and by how much.

    Attributes
    ----------
    metric : str
        Headline metric (e.g. ``balanced accuracy``).
    current, new : float
        Scores of the current and the retrained model on the guard images.
    difference : float
        ``new - current`` (higher is better) or ``current - new`` (lower is better): > 0 means the new one is better.
    accepted : bool
        The new model replaces the current one (it is not worse by more than ``tolerance``).
    tolerance : float
        How much worse the new model may be and still be accepted (0: not worse at all).
    n_images : int
        Guard images both were scored on.
    """

    metric: str
    current: float
    new: float
    difference: float
    accepted: bool
    tolerance: float
    n_images: int

    @property
    def winner(self) -> str:
        return "new" if self.accepted else "current"

    def sentence(self) -> str:
        """One line for the CLI and the report."""
        verdict = ("The retrained model replaces the current one" if self.accepted
                   else "The current model stays; the retrained model is kept aside")
        change = "better" if self.difference > 0 else "worse" if self.difference < 0 else "equal"
        return (f"{verdict}: {self.metric} on {self.n_images} guard image(s) {self.new:.3f} vs {self.current:.3f} "
                f"({change} by {abs(self.difference):.3f}).")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "winner": self.winner}


def judge(current: float, new: float, *, metric: str, n_images: int, higher_is_better: bool = True,
          tolerance: float = 0.0) -> GuardDecision:
    """Accept ``new`` only if it is not worse than ``current`` by more than ``tolerance``.

    A score that is not a number (no guard images could be scored) never wins.
    """
    if tolerance < 0:
        raise ValueError(f"Invalid value received for argument `tolerance`. Expected a float >= 0. "
                         f"Received: tolerance={tolerance}")
    current, new = float(current), float(new)
    difference = (new - current) if higher_is_better else (current - new)
    accepted = bool(new == new and (current != current or difference >= -tolerance))
    return GuardDecision(metric, current, new, float(difference), accepted, float(tolerance), int(n_images))


def guard_score(model: Any, recipe: Any, samples: Sequence[Any], *, norm_stats: Any = None,
                postprocess: Any = None, class_names: Sequence[str] | None = None) -> tuple[str, float, bool]:
    """``(metric name, score, higher_is_better)`` of ``model`` on the guard ``samples`` (headline metric)."""
    from builder.workflow.evaluate_job import evaluate_model

    metrics = evaluate_model(model, recipe, list(samples), norm_stats=norm_stats, postprocess=postprocess,
                             class_names=class_names, split="guard")
    headline = metrics["headline"]
    value = headline.get("value")
    return str(headline["name"]), float("nan") if value is None else float(value), \
        bool(headline.get("higher_is_better", True))

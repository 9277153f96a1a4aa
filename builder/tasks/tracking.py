"""Tracking (time-lapses, ``T,Y,X,C``): registered so recipes can name it, not trainable yet."""

from __future__ import annotations

from typing import Any

from builder.errors import CellwrightError
from builder.tasks.base import Task, problem, register_task


def not_trainable_error() -> CellwrightError:
    """The error raised when someone tries to train, evaluate or build a loss for the tracking task."""
    return CellwrightError(
        "task: tracking",
        "Tracking cannot be trained in this version of Cellwright yet; only the data layout (ctc) is read.",
        "Segment each frame with task: instance_segmentation for now, or wait for the tracking release.",
    )


@register_task
class Tracking(Task):
    """Follow cells through a time-lapse (placeholder until the tracking release)."""

    name = "tracking"
    title = "Cell tracking (not trainable yet)"
    description = "cell tracking"
    card = ("Track cells over time", "Follow cells through a time-lapse (segmentation first).")
    trainable = False
    output = "tracks"
    layouts = ("ctc", "demo")
    learns_from = "tracks"
    time_lapse = True

    def check_trainable(self) -> None:
        raise not_trainable_error()

    def check_recipe(self, recipe: Any) -> list[Any]:
        return [*super().check_recipe(recipe), problem(
            "task", "Tracking recipes can be written and validated, but training a tracking model is not available "
            "yet in this version of Cellwright.", "Segment each frame with an instance_segmentation recipe for now.",
            severity="warning")]

    def new_recipe_data(self, root: str) -> dict[str, Any]:
        return {"layout": "ctc", "root": root}

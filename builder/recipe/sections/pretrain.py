"""The ``pretrain:`` section: self-supervised pre-training that ``cellwright train`` runs first when needed.

The same settings as ``cellwright pretrain`` (:class:`~builder.pretrain.settings.PretrainSettings`), plus a
time budget. ``train`` (re)makes the encoder file ``out`` when it is missing or outdated (other settings, or
images added or changed since), then the model starts from it through ``backbone: {from: OUT}``.
"""

from __future__ import annotations

from pydantic import field_validator

from builder.pretrain.settings import PretrainSettings
from builder.recipe.duration import EXAMPLES, parse_duration, readable_duration
from builder.recipe.fields import field


class PretrainSection(PretrainSettings):
    """Pre-train an encoder on unlabelled images before training (masked-image reconstruction)."""

    time_budget: str | None = field(
        None, help=f"Most time for pre-training, e.g. {EXAMPLES}: it stops after the epoch that reaches it "
        "('epochs' stays the upper limit). Empty: run every epoch.", suggested=["5m", "10m", "30m"])

    @field_validator("time_budget", mode="before")
    @classmethod
    def _readable_budget(cls, value: object) -> str | None:
        return readable_duration(value)

    def budget_seconds(self) -> float | None:
        """``time_budget`` in seconds (None: no budget)."""
        return parse_duration(self.time_budget) if self.time_budget else None

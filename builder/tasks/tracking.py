"""Tracking (time-lapses, ``T,Y,X,C``): registered so recipes can name it, not trainable yet."""

from __future__ import annotations

from builder.errors import CellwrightError


def not_trainable_error() -> CellwrightError:
    """The error raised when someone tries to train, evaluate or build a loss for the tracking task."""
    return CellwrightError(
        "task: tracking",
        "Tracking cannot be trained in this version of Cellwright yet; only the data layout (ctc) is read.",
        "Segment each frame with task: instance_segmentation for now, or wait for the tracking release.",
    )


def check_trainable() -> None:
    """Raise :func:`not_trainable_error` (tracking is a placeholder)."""
    raise not_trainable_error()

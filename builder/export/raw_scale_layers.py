"""The layer that gives a restoration package's network its per-image input statistics (see ``raw_scale``).

Imported only when a package is exported (it imports Keras).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

#: A statistic's scale below this is treated as 1 (a flat image stays flat), as in ``compute_stats``.
_EPS = 1e-6


class ImageStats(keras.layers.Layer):
    """Per-image ``(offset, scale)`` of a B,Y,X,C batch, each B,1,1,C (or B,1,1,1 over all channels).

    ``percentile``: the ``low`` and ``high`` percentiles with NumPy's default (linear) interpolation;
    ``minmax``: minimum and maximum; ``zscore``: mean and standard deviation. Scales below 1e-6 become 1.
    """

    def __init__(self, method: str, low: float = 1.0, high: float = 99.8, per_channel: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.method, self.low, self.high, self.per_channel = method, float(low), float(high), bool(per_channel)

    def _values(self, x: Any) -> Any:
        """B,K,N: the values each statistic is taken over (K channels, or one group of all channels)."""
        batch, channels = ops.shape(x)[0], ops.shape(x)[-1]
        if self.per_channel:
            return ops.transpose(ops.reshape(x, (batch, -1, channels)), (0, 2, 1))
        return ops.reshape(x, (batch, 1, -1))

    @staticmethod
    def _percentile(ordered: Any, q: float) -> Any:
        """The ``q``-th percentile (0-100) of values sorted along the last axis, interpolated as NumPy does."""
        n = ops.shape(ordered)[-1]
        position = ops.cast(n - 1, "float64") * (q / 100.0)
        below = ops.floor(position)
        i0 = ops.cast(below, "int32")
        i1 = ops.minimum(i0 + 1, n - 1)
        frac = ops.cast(position - below, ordered.dtype)
        lo, hi = ops.take(ordered, i0, axis=-1), ops.take(ordered, i1, axis=-1)
        return lo + (hi - lo) * frac

    def call(self, x: Any) -> tuple[Any, Any]:
        values = self._values(ops.cast(x, "float32"))
        if self.method == "percentile":
            ordered = ops.sort(values, axis=-1)
            offset = self._percentile(ordered, self.low)
            scale = self._percentile(ordered, self.high) - offset
        elif self.method == "minmax":
            offset = ops.min(values, axis=-1)
            scale = ops.max(values, axis=-1) - offset
        else:  # zscore
            offset = ops.mean(values, axis=-1)
            scale = ops.sqrt(ops.mean(ops.square(values - offset[..., None]), axis=-1))
        scale = ops.where(scale < _EPS, ops.ones_like(scale), scale)
        return offset[:, None, None, :], scale[:, None, None, :]

    def compute_output_spec(self, x: Any) -> tuple[Any, Any]:
        shape = (x.shape[0], 1, 1, x.shape[-1] if self.per_channel else 1)
        return keras.KerasTensor(shape, "float32"), keras.KerasTensor(shape, "float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "method": self.method, "low": self.low, "high": self.high,
                "per_channel": self.per_channel}

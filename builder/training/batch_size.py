"""``batch_size: auto``: the largest power-of-two batch that fits in memory, found with real training steps."""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Sequence
from typing import Any

from builder.errors import TrainingError
from builder.events import EventSink, make_event
from builder.training.oom import is_oom_error, oom_training_error

#: Activations are kept for the backward pass and gradients of the same size are made: count each about 3 times.
ACTIVATION_FACTOR = 3.0
#: Share of the free RAM a CPU run may plan to use.
CPU_MEMORY_FRACTION = 0.5


def largest_power_of_two(limit: int) -> int:
    """Largest power of two ``<= limit`` (1 for limits below 2)."""
    return 1 if limit < 2 else 2 ** int(math.floor(math.log2(limit)))


def estimate_sample_bytes(model: Any) -> int:
    """Rough training memory per sample: every layer output (float32 or the layer's dtype) times
    :data:`ACTIVATION_FACTOR`."""
    total = 0
    for layer in getattr(model, "layers", []):
        try:
            outputs = layer.output
        except (AttributeError, ValueError):
            continue
        for tensor in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
            shape = getattr(tensor, "shape", None)
            if shape is None:
                continue
            size = math.prod(int(d) for d in shape[1:] if d is not None)
            itemsize = 2 if "16" in str(getattr(tensor, "dtype", "float32")) else 4
            total += size * itemsize
    return int(total * ACTIVATION_FACTOR)


def cpu_memory_budget() -> int:
    """:data:`CPU_MEMORY_FRACTION` of the currently available RAM, in bytes."""
    import psutil

    return int(psutil.virtual_memory().available * CPU_MEMORY_FRACTION)


def find_batch_size(
    model_factory: Callable[[], Any],
    x_shape: Sequence[int],
    y_shape: Sequence[int],
    *,
    loss: Any,
    n_train: int,
    min_batch: int = 1,
    max_batch: int = 256,
    memory_budget_bytes: int | None = None,
    device: str | None = None,
    x_dtype: str = "float32",
    y_dtype: str = "float32",
    optimizer: Any = "adam",
    events: EventSink | None = None,
) -> int:
    """Find the largest power-of-two batch size that trains without running out of memory.

    Doubles the batch from ``min_batch`` and runs one real training step (forward, backward, update) of a
    throw-away model from ``model_factory`` for each size, stopping at the first out-of-memory error. The
    largest size tried is capped by the number of training samples, ``max_batch``, and (on CPU, where running
    out of memory kills the process instead of raising an error) by ``memory_budget_bytes`` divided by the
    estimated memory per sample.

    Parameters
    ----------
    model_factory : callable
        Returns a new uncompiled ``keras.Model`` (the same one training will use).
    x_shape, y_shape : sequence of int
        One sample's input and target shape, without the batch axis (e.g. ``(64, 64, 1)``, ``(64, 64, 3)``).
    loss : str or keras loss
        The training loss.
    n_train : int
        Number of training samples (patches) per epoch.
    memory_budget_bytes : int, optional
        Memory the batch may use; on CPU by default half the available RAM, on GPU no estimate is used.
    device : {"CPU", "GPU"}, optional
        Detected when omitted.

    Returns
    -------
    int
        A power of two in ``[min_batch, min(max_batch, n_train)]``.

    Raises
    ------
    TrainingError
        When even ``min_batch`` does not fit.
    """
    import numpy as np
    import tensorflow as tf

    if device is None:
        device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    min_batch = largest_power_of_two(max(min_batch, 1))
    cap = largest_power_of_two(max(min(max_batch, n_train), 1))
    model = model_factory()
    model.compile(optimizer=optimizer, loss=loss)
    if memory_budget_bytes is None and device == "CPU":
        memory_budget_bytes = cpu_memory_budget()
    if memory_budget_bytes is not None:
        per_sample = max(estimate_sample_bytes(model), 1)
        cap = min(cap, largest_power_of_two(max(memory_budget_bytes // per_sample, 1)))
    cap = max(cap, min_batch)

    best = None
    batch = min_batch
    while batch <= cap:
        x = np.zeros((batch, *x_shape), dtype=x_dtype)
        y = np.zeros((batch, *y_shape), dtype=y_dtype)
        try:
            model.train_on_batch(x, y)
        except Exception as error:
            if not is_oom_error(error):
                raise
            if best is None:
                raise oom_training_error(error, batch_size=batch, patch_size=tuple(x_shape[:-1]),
                                         device=device) from None
            break
        best = batch
        if events is not None:
            events(make_event("log", message=f"batch size {batch} fits", batch_size=batch))
        batch *= 2
    del model
    gc.collect()
    if best is None:  # pragma: no cover - the loop always tries min_batch
        raise TrainingError("train.batch_size", "No batch size could be tried.", "Set train.batch_size to 1.")
    return best

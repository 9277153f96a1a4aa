"""Devices, precision, XLA and ``tf.distribute`` strategy for a training run.

``precision: auto`` means mixed_float16 on a GPU and float32 on a CPU; ``xla: auto`` turns XLA on for GPUs only;
``distribute: auto`` uses MultiWorkerMirroredStrategy when ``TF_CONFIG`` is set, MirroredStrategy for several
local GPUs and the default strategy otherwise. Create the runtime (:func:`setup_runtime`) BEFORE building
datasets or models: MultiWorkerMirroredStrategy must exist before TensorFlow runs its first operation.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from builder.errors import TrainingError
from builder.recipe.sections.train import TrainSection


@dataclass
class Runtime:
    """What :func:`setup_runtime` decided; pass it to :func:`builder.training.engine.fit`."""

    strategy: Any
    strategy_name: str  # "default" | "mirrored" | "multi_worker"
    precision: str  # "float32" | "mixed_float16" | "mixed_bfloat16"
    xla: bool
    device: str  # "GPU" | "CPU"
    gpus: list[str] = field(default_factory=list)
    replicas: int = 1
    is_chief: bool = True
    worker_index: int = 0
    deterministic: bool = False

    def describe(self) -> dict[str, Any]:
        return {"strategy": self.strategy_name, "precision": self.precision, "xla": self.xla, "device": self.device,
                "gpus": self.gpus, "replicas": self.replicas, "is_chief": self.is_chief,
                "worker_index": self.worker_index, "deterministic": self.deterministic}


def resolve_precision(setting: str, has_gpu: bool) -> str:
    """``auto`` -> mixed_float16 with a GPU, float32 without; other values are kept."""
    if setting == "auto":
        return "mixed_float16" if has_gpu else "float32"
    return setting


def resolve_xla(setting: str, has_gpu: bool) -> bool:
    """``auto`` -> XLA on with a GPU only; ``on``/``off`` are kept."""
    if setting == "auto":
        return has_gpu
    return setting == "on"


def read_tf_config() -> dict[str, Any] | None:
    """The parsed ``TF_CONFIG`` environment variable, or None when unset; TrainingError when it is not JSON."""
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise TrainingError(
            where="TF_CONFIG",
            what=f"The TF_CONFIG environment variable is not valid JSON ({error.msg} at position {error.pos}).",
            fix='Set it like {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}.',
        ) from None
    return value


def resolve_distribute(setting: str, n_gpus: int, tf_config: dict[str, Any] | None) -> str:
    """Choose ``none``, ``mirrored`` or ``multi_worker`` for ``train.distribute``."""
    if setting == "multi_worker":
        if not tf_config:
            raise TrainingError(
                where="train.distribute",
                what="distribute is 'multi_worker' but the TF_CONFIG environment variable is not set.",
                fix="Set TF_CONFIG on every machine (cluster addresses and this machine's task index), or use "
                "distribute: auto to train on this machine only.",
            )
        return "multi_worker"
    if setting == "auto":
        if tf_config and len(tf_config.get("cluster", {}).get("worker", [])) + len(
            tf_config.get("cluster", {}).get("chief", [])
        ) > 1:
            return "multi_worker"
        return "mirrored" if n_gpus > 1 else "none"
    return setting


def chief_info(tf_config: dict[str, Any] | None) -> tuple[bool, int]:
    """(is_chief, worker_index) from TF_CONFIG: the chief, or worker 0 when the cluster has no chief."""
    if not tf_config:
        return True, 0
    task = tf_config.get("task", {})
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    has_chief = bool(tf_config.get("cluster", {}).get("chief"))
    return (kind == "chief") or (kind == "worker" and index == 0 and not has_chief), index


def make_strategy(kind: str) -> Any:
    """A ``tf.distribute`` strategy: ``none`` -> default, ``mirrored``, ``multi_worker``."""
    import tensorflow as tf

    if kind == "multi_worker":
        return _patch_scalar_reduce(tf.distribute.MultiWorkerMirroredStrategy())
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def setup_runtime(settings: TrainSection, *, deterministic: bool | None = None) -> Runtime:
    """Create the strategy, set the precision policy, seed every RNG and (on CPU) make ops deterministic.

    Parameters
    ----------
    settings : TrainSection
        Uses ``precision``, ``xla``, ``distribute`` and ``seed``.
    deterministic : bool, optional
        Enable TensorFlow op determinism; by default on when no GPU is visible (same seed -> same weights).
    """
    tf_config = read_tf_config()
    kind = resolve_distribute(settings.distribute, 0, tf_config) if tf_config else None
    if kind == "multi_worker":
        strategy = make_strategy("multi_worker")  # before any other TensorFlow op
    import keras
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    if kind != "multi_worker":
        kind = resolve_distribute(settings.distribute, len(gpus), tf_config)
        strategy = make_strategy(kind)
    has_gpu = bool(gpus)
    precision = resolve_precision(settings.precision, has_gpu)
    keras.mixed_precision.set_global_policy(precision)
    if deterministic is None:
        deterministic = not has_gpu
    keras.utils.set_random_seed(settings.seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    is_chief, index = chief_info(tf_config if kind == "multi_worker" else None)
    return Runtime(
        strategy=strategy,
        strategy_name="default" if kind == "none" else kind,
        precision=precision,
        xla=resolve_xla(settings.xla, has_gpu),
        device="GPU" if has_gpu else "CPU",
        gpus=gpus,
        replicas=int(strategy.num_replicas_in_sync),
        is_chief=is_chief,
        worker_index=index,
        deterministic=deterministic,
    )


def _patch_scalar_reduce(strategy: Any) -> Any:
    """Make ``reduce`` of this MultiWorkerMirroredStrategy accept what Keras 3.15 passes it. Only this strategy
    object is changed; Keras itself is not touched.

    - Keras averages each scalar log value with ``strategy.reduce("MEAN", value, axis=0)``, which fails for
      scalars: scalars are reduced with ``axis=None`` (the mean over replicas, which is what Keras wants).
    - Before ``fit`` Keras averages the first batch ``(x, y)`` with one ``reduce`` call. ``tf.distribute``
      documents ``reduce`` for nested structures, but this strategy only converts single values: a nested value
      is reduced leaf by leaf.
    """
    import tensorflow as tf

    original = strategy.reduce

    def reduce_one(reduce_op: Any, value: Any, axis: Any) -> Any:
        if axis is not None:
            local = strategy.experimental_local_results(value)
            if local and getattr(local[0].shape, "rank", None) == 0:
                axis = None
        return original(reduce_op, value, axis=axis)

    def reduce(reduce_op: Any, value: Any, axis: Any = None) -> Any:
        if tf.nest.is_nested(value):
            return tf.nest.map_structure(lambda leaf: reduce_one(reduce_op, leaf, axis), value)
        return reduce_one(reduce_op, value, axis)

    strategy.reduce = reduce
    return strategy

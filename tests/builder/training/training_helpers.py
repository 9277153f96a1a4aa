"""Tiny models and data for the training-engine tests; also run as a script by the subprocess tests.

    python training_helpers.py kill RUN_DIR KILL_AFTER_EPOCH   # trains, SIGKILLs itself after that epoch
    python training_helpers.py kill-in-save RUN_DIR N          # SIGKILLs itself while writing its N-th .keras file
    python training_helpers.py kill-before RUN_DIR NAME N       # SIGKILLs itself just before the N-th rename onto NAME
    python training_helpers.py worker OUT_DIR                   # one multi-worker process (TF_CONFIG is set)
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

from builder.recipe.sections.train import TrainSection  # noqa: E402

N_SAMPLES, SIZE, BATCH = 32, 8, 8
LOSS = "sparse_categorical_crossentropy"


def settings(**overrides: Any) -> TrainSection:
    base: dict[str, Any] = {"epochs": 4, "schedule": {"name": "cosine", "warmup_epochs": 1},
                            "optimizer": {"name": "adam", "learning_rate": 0.01}, "seed": 3}
    base.update(overrides)
    return TrainSection(**base)


def tiny_model() -> Any:
    import keras

    inputs = keras.Input((SIZE, SIZE, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.25)(x)  # random masks: resume must restore the generator state too
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def arrays(seed: int = 0, n: int = N_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype("int32")
    x = rng.normal(size=(n, SIZE, SIZE, 1)).astype("float32") + y[:, None, None, None].astype("float32")
    return x, y


def make_epoch_fn(x: np.ndarray, y: np.ndarray, seed: int = 11):
    """Per-epoch dataset: shuffled with seed + epoch, so each epoch's order depends on the epoch only."""
    import tensorflow as tf

    def make_epoch(epoch):
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        return ds.shuffle(len(x), seed=tf.cast(epoch, tf.int64) + seed).batch(BATCH, drop_remainder=True)

    return make_epoch


def val_dataset(x: np.ndarray, y: np.ndarray):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x[:16], y[:16])).batch(BATCH)


def weights(model: Any) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def _kill(run_dir: str, kill_after: int) -> None:
    import keras

    from builder.training.engine import fit
    from builder.training.run_folder import RunFolder

    class KillAfter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if epoch + 1 == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

    x, y = arrays()
    fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=settings(), run=RunFolder(Path(run_dir)),
        loss=LOSS, metrics=["accuracy"], extra_callbacks=[KillAfter()])


def _kill_in_save(run_dir: str, save_number: int) -> None:
    """Train ``tiny_model`` and SIGKILL the process while Keras writes the N-th ``.keras`` file (this process
    only: Keras' Dense layer kills it when asked for its variables the N-th time)."""
    import keras

    from builder.training.engine import fit
    from builder.training.run_folder import RunFolder

    saves = {"count": 0}
    save_dense = keras.layers.Dense.save_own_variables

    def save_then_die(layer: Any, store: Any) -> None:
        saves["count"] += 1
        if saves["count"] == save_number:
            os.kill(os.getpid(), signal.SIGKILL)  # the .keras file is half written
        save_dense(layer, store)

    keras.layers.Dense.save_own_variables = save_then_die
    x, y = arrays()
    fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=settings(), run=RunFolder(Path(run_dir)),
        loss=LOSS, metrics=["accuracy"])


def _kill_before(run_dir: str, name: str, number: int) -> None:
    """Train ``tiny_model`` and SIGKILL the process just before the N-th atomic rename onto a file called ``name``
    (every file of a run is written to a temporary name and renamed: this is each step between two files)."""
    from builder.training.engine import fit
    from builder.training.run_folder import RunFolder

    renames = {"count": 0}
    rename = os.replace

    def die_before(src: Any, dst: Any, **kwargs: Any) -> None:
        if Path(dst).name == name:
            renames["count"] += 1
            if renames["count"] == number:
                os.kill(os.getpid(), signal.SIGKILL)
        rename(src, dst, **kwargs)

    os.replace = die_before
    x, y = arrays()
    fit(tiny_model, make_epoch_fn(x, y), val_dataset(x, y), settings=settings(), run=RunFolder(Path(run_dir)),
        loss=LOSS, metrics=["accuracy"])


def _worker(out_dir: str) -> None:
    from builder.training.engine import fit
    from builder.training.run_folder import create_run_folder
    from builder.training.strategy import setup_runtime

    train = settings(distribute="multi_worker", epochs=2, schedule={"name": "constant"})
    runtime = setup_runtime(train)  # before any dataset is built
    import tensorflow as tf

    x, y = arrays()
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH, drop_remainder=True).with_options(options)
    run = create_run_folder(out_dir, f"worker{runtime.worker_index}", environment=False)
    result = fit(tiny_model, ds, None, settings=train, run=run, loss=LOSS, runtime=runtime)
    np.savez(Path(out_dir) / f"weights-{runtime.worker_index}.npz", *weights(result.model),
             replicas=runtime.replicas, chief=runtime.is_chief, strategy=runtime.strategy_name,
             steps=int(result.model.optimizer.iterations.numpy()))


if __name__ == "__main__":
    if sys.argv[1] == "kill":
        _kill(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "kill-in-save":
        _kill_in_save(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "kill-before":
        _kill_before(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "worker":
        _worker(sys.argv[2])
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")

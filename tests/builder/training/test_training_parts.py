"""Run folder, atomic writes, batch_size auto, OOM messages, strategy choices, progress bar, cheap imports."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from builder.errors import TrainingError
from builder.io_utils import atomic_save_keras, atomic_write_json, atomic_write_text
from builder.training.progress import ProgressPrinter, format_duration
from builder.training.run_folder import create_run_folder, open_run_folder
from builder.training.strategy import chief_info, resolve_distribute, resolve_precision, resolve_xla


def test_run_folders_are_never_reused(tmp_path: Path) -> None:
    from builder.recipe.schema import Recipe

    now = dt.datetime(2025, 3, 4, 5, 6, 7)
    recipe = Recipe(name="my nuclei/run", task="segmentation")
    first = create_run_folder(tmp_path, recipe.name, recipe=recipe, split={"train": ["a.tif"]}, environment=False,
                              now=now)
    second = create_run_folder(tmp_path, recipe.name, environment={"python": "3"}, now=now)
    assert first.name == "my-nuclei-run-20250304-050607" and second.name == first.name + "-2"
    assert "task: segmentation" in first.recipe_path.read_text() and "epochs: 50" in first.recipe_path.read_text()
    assert json.loads(first.split_path.read_text()) == {"train": ["a.tif"]}
    assert json.loads(second.environment_path.read_text()) == {"python": "3"}
    assert open_run_folder(first.path) == first
    with pytest.raises(TrainingError, match="no state.json"):
        first.read_state()
    with pytest.raises(TrainingError, match="not a Cellwright run folder"):
        open_run_folder(tmp_path)


def test_atomic_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "a" / "x.txt", "one")
    atomic_write_text(tmp_path / "a" / "x.txt", "two")
    atomic_write_json(tmp_path / "a" / "y.json", {"v": 1})
    assert (tmp_path / "a" / "x.txt").read_text() == "two"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["x.txt", "y.json"]
    with pytest.raises(ValueError, match="Expected a name ending in '.keras'"):
        atomic_save_keras(object(), tmp_path / "model.h5")


def test_environment_names_versions_and_device(tmp_path: Path) -> None:
    run = create_run_folder(tmp_path, "env")
    env = json.loads(run.environment_path.read_text())
    assert {"python", "tensorflow", "keras", "numpy", "cpu", "gpus", "device"} <= set(env)
    assert env["device"] in ("CPU", "GPU")


def test_batch_size_auto_is_a_power_of_two_within_bounds() -> None:
    from builder.training.batch_size import estimate_sample_bytes, find_batch_size
    from tests.builder.training.training_helpers import SIZE, tiny_model

    loss = "sparse_categorical_crossentropy"
    found = find_batch_size(tiny_model, (SIZE, SIZE, 1), (), loss=loss, n_train=20, max_batch=64,
                            y_dtype="int32", device="CPU")
    assert found == 16  # capped by the 20 training samples
    per_sample = estimate_sample_bytes(tiny_model())
    assert per_sample > SIZE * SIZE * 4
    small = find_batch_size(tiny_model, (SIZE, SIZE, 1), (), loss=loss, n_train=1000, max_batch=64,
                            memory_budget_bytes=int(per_sample * 4.5), y_dtype="int32", device="CPU")
    assert small == 4  # capped by the memory budget


def test_out_of_memory_becomes_a_training_error() -> None:
    import tensorflow as tf

    from builder.training.oom import is_oom_error, translate_oom

    error = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[16,64,256,256]")
    assert is_oom_error(error) and not is_oom_error(ValueError("shapes differ"))
    with pytest.raises(TrainingError) as caught, translate_oom(batch_size=16, patch_size=(256, 256)):
        raise error
    text = caught.value.format()
    assert "ran out of memory" in text and "from 16 to 8" in text and "256x256 -> 128x128" in text
    assert "smaller model" in text and "Traceback" not in text
    with pytest.raises(ValueError), translate_oom(batch_size=4):
        raise ValueError("not memory")


def test_precision_xla_and_distribution_choices() -> None:
    assert resolve_precision("auto", True) == "mixed_float16" and resolve_precision("auto", False) == "float32"
    assert resolve_precision("mixed_bfloat16", False) == "mixed_bfloat16"
    assert resolve_xla("auto", True) and not resolve_xla("auto", False) and resolve_xla("on", False)
    cluster = {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}
    assert resolve_distribute("auto", 0, None) == "none"
    assert resolve_distribute("auto", 2, None) == "mirrored"
    assert resolve_distribute("auto", 0, cluster) == "multi_worker"
    assert chief_info(cluster) == (False, 1)
    with pytest.raises(TrainingError, match="TF_CONFIG environment variable is not set"):
        resolve_distribute("multi_worker", 0, None)


def test_setup_runtime_on_cpu_uses_float32_without_xla() -> None:
    from builder.training.strategy import setup_runtime
    from tests.builder.training.training_helpers import settings

    runtime = setup_runtime(settings())
    assert (runtime.precision, runtime.xla, runtime.strategy_name, runtime.replicas) == ("float32", False,
                                                                                         "default", 1)


def test_progress_printer_renders_events() -> None:
    stream = io.StringIO()
    show = ProgressPrinter(stream, interactive=True, width=10)
    show({"event": "start", "epochs": 2, "device": "CPU", "precision": "float32", "run": "runs/x"})
    show({"event": "batch", "epoch": 1, "epochs": 2, "step": 2, "steps": 4, "metrics": {"loss": 0.5},
          "eta_s": 75})
    show({"event": "epoch", "epoch": 1, "epochs": 2, "metrics": {"loss": 0.4, "val_loss": 0.6,
                                                                 "learning_rate": 1e-3},
          "learning_rate": 1e-3, "epoch_time_s": 3, "eta_s": 3})
    show({"event": "done", "epochs_completed": 2, "best_value": 0.55, "best_epoch": 2, "monitor": "val_loss"})
    text = stream.getvalue()
    assert "training 2 epochs on CPU" in text and "[#####.....] 2/4" in text and "ETA 1:15" in text
    assert "epoch 1/2 [##########] loss 0.4  val_loss 0.6  lr 0.001" in text
    assert "done: 2 epochs; best val_loss 0.55 at epoch 2" in text
    assert format_duration(3725) == "1:02:05" and format_duration(None) == "--:--"


def test_training_modules_import_without_tensorflow() -> None:
    code = ("import sys, builder.training.engine, builder.training.run_folder, builder.training.progress, "
            "builder.training.schedules, builder.training.strategy, builder.training.batch_size, "
            "builder.training.oom, builder.training.optimizers, builder.io_utils; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

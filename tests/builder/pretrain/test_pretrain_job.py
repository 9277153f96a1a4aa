"""``cellwright pretrain`` makes an encoder that a recipe loads with ``backbone: {from: ...}`` and fine-tunes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from train_fixtures import tiny_recipe

from builder.data.demo import make_demo

REPO = Path(__file__).resolve().parents[3]


def _cellwright(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "builder.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An encoder pre-trained (2 epochs) on 8 unlabelled demo cell images, through the CLI, with events."""
    tmp = tmp_path_factory.mktemp("pretrain")
    make_demo("cells", tmp / "unlabelled", n_images=8, size=32, seed=5)
    done = _cellwright("pretrain", "unlabelled", "--out", "enc.keras", "--size", "32", "--fit", "resize",
                       "--epochs", "2", "--depth", "2", "--base-filters", "4", "--events", cwd=tmp)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events] == ["start", "epoch", "epoch", "artifact", "done"]
    assert all(np.isfinite(e["loss"]) for e in events if e["event"] == "epoch")
    return tmp / "enc.keras"


def _first_kernel(model) -> np.ndarray:
    return next(w.numpy() for w in model.weights if w.path.endswith("enc0_conv1/kernel"))


def test_record_says_how_the_encoder_was_made(encoder: Path):
    record = json.loads(encoder.with_name("enc.pretrain.json").read_text())
    assert record["objective"] == "masked-image reconstruction"
    assert record["n_images"] == len(list((encoder.parent / "unlabelled").rglob("*.tif*")))
    assert record["settings"]["epochs"] == 2


def test_batchnorm_statistics_describe_the_clean_images(encoder: Path):
    """Pre-training only shows masked images; the saved encoder's batch-norm statistics are those of clean ones."""
    import keras

    from builder.pretrain.images import find_images, load_unlabelled

    model = keras.saving.load_model(encoder)
    images = load_unlabelled(find_images(encoder.parent / "unlabelled"), size=32, resize=True)
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(layers) == 4  # depth 2, two per level
    for layer in layers:
        inputs = keras.Model(model.inputs, layer.input).predict(images, verbose=0).astype(np.float64)
        scale = inputs.std()
        np.testing.assert_allclose(layer.moving_mean.numpy(), inputs.mean(axis=(0, 1, 2)), atol=1e-3 * scale,
                                   err_msg=layer.name)
        np.testing.assert_allclose(layer.moving_variance.numpy(), inputs.var(axis=(0, 1, 2)), rtol=1e-3,
                                   err_msg=layer.name)
    record = json.loads(encoder.with_name("enc.pretrain.json").read_text())
    assert record["batchnorm_recalibrated_on_clean_images"] == 4


def test_recipe_starts_from_the_pretrained_encoder_and_fine_tunes_it(encoder: Path, tmp_path: Path):
    import keras

    from builder.compile import compile_recipe_model
    from builder.model_files.safe_import import load_keras_safely
    from builder.recipe import load_recipe
    from builder.report.build import build_report
    from builder.workflow.train_job import train_recipe

    path = tiny_recipe(tmp_path, "classification", epochs=2)
    text = yaml.safe_load(path.read_text())
    text["model"]["params"]["backbone"] = {"from": str(encoder)}
    text["train"]["optimizer"] = {"learning_rate": 0.05}
    path.write_text(yaml.safe_dump(text))
    recipe = load_recipe(path)

    pretrained = _first_kernel(keras.saving.load_model(encoder))
    model = compile_recipe_model(recipe, (32, 32, 1), n_classes=2)
    np.testing.assert_array_equal(_first_kernel(model), pretrained)  # loaded, not random

    outcome = train_recipe(recipe, runs_dir=tmp_path / "runs", report=False, export=False)
    trained = load_keras_safely(outcome.run_dir / "checkpoints" / "last.keras")
    assert not np.allclose(_first_kernel(trained), pretrained)  # fine-tuned
    summary = json.loads((outcome.run_dir / "model_summary.json").read_text())
    assert summary["backbone_pretraining"]["objective"] == "masked-image reconstruction"
    html = build_report(outcome.run_dir, formats=("html",))[0].read_text()
    n_images = len(list((encoder.parent / "unlabelled").rglob("*.tif*")))
    assert f"pre-trained without labels by masked-image reconstruction on {n_images} unlabelled images" in html


def test_a_bad_option_is_named(tmp_path: Path):
    make_demo("cells", tmp_path / "unlabelled", n_images=2, size=32, seed=5)
    done = _cellwright("pretrain", "unlabelled", "--mask-ratio", "1.5", cwd=tmp_path)
    assert done.returncode == 2
    assert "--mask-ratio" in done.stderr and "Received: mask_ratio=1.5" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_empty_folder_is_named(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    done = _cellwright("pretrain", "empty", cwd=tmp_path)
    assert done.returncode == 2
    assert "empty" in done.stderr and "no image files" in done.stderr

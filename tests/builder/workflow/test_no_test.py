"""``cellwright train --no-test``: the test images are never read; post-processing is tuned on the validation
images only; ``cellwright evaluate RUN`` scores the test set later with those thresholds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from builder.data.demo import make_demo
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe

REPO = Path(__file__).resolve().parents[3]
SPLIT = {"train": range(0, 4), "validation": range(4, 6), "test": range(6, 9)}


def _folders(tmp: Path) -> Path:
    """Demo nuclei in train/ (4), validation/ (2) and test/ (3) folders."""
    demo, root = tmp / "demo", tmp / "data"
    make_demo("nuclei", demo, n_images=9, size=48, seed=0)
    images = sorted((demo / "images").glob("*.tif"))
    for split, indices in SPLIT.items():
        for kind in ("images", "masks"):
            (root / split / kind).mkdir(parents=True)
            for i in indices:
                shutil.copy(demo / kind / images[i].name, root / split / kind / images[i].name)
    return root


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "builder.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_no_test_never_reads_the_test_images_and_evaluate_scores_them_later(tmp_path: Path):
    root = _folders(tmp_path)
    path = tiny_recipe(tmp_path, "instance_segmentation", epochs=2, data_dir=root)
    recipe = yaml.safe_load(path.read_text())
    recipe["data"]["split"] = {"mode": "folders"}
    path.write_text(yaml.safe_dump(recipe))
    kept = tmp_path / "kept-test"
    shutil.copytree(root / "test", kept)
    for image in (root / "test" / "images").glob("*.tif"):
        image.write_bytes(b"not an image: reading me fails")  # any read of a test image would stop the run

    result = _cli("train", str(path), "--runs", str(tmp_path / "runs"), "--no-test", "--no-report", "--no-export")
    assert result.returncode == 0, result.stderr[-3000:]
    run = next((tmp_path / "runs").iterdir())
    assert "cellwright evaluate" in result.stdout
    assert not (run / "metrics.json").exists()
    tuned = json.loads((run / "postprocess.json").read_text())
    assert tuned["tuned_on"] == len(SPLIT["validation"])  # tuned on the validation images, not the 3 test ones

    shutil.rmtree(root / "test")
    shutil.copytree(kept, root / "test")
    result = _cli("evaluate", str(run), "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads(result.stdout)
    assert metrics["split"] == "test" and metrics["n_images"] == len(SPLIT["test"])
    assert {k: metrics["postprocess"][k] for k in ("threshold", "seed_threshold", "min_size")} == {
        k: tuned[k] for k in ("threshold", "seed_threshold", "min_size")}


def test_without_test_images_the_thresholds_are_still_tuned_on_validation(tmp_path: Path):
    path = tiny_recipe(tmp_path, "instance_segmentation", epochs=1, n_images=6)
    recipe = yaml.safe_load(path.read_text())
    recipe["data"]["split"] = {"mode": "random", "validation": 0.34, "test": 0.0, "seed": 0}
    path.write_text(yaml.safe_dump(recipe))
    outcome = train_recipe(path, runs_dir=tmp_path / "runs", report=False, export=False)
    split = json.loads((outcome.run_dir / "split.json").read_text())
    assert outcome.metrics == {}
    tuned = json.loads((outcome.run_dir / "postprocess.json").read_text())
    assert tuned["tuned_on"] == len(split["validation"]) > 0

"""A restoration model predicted from its exported Cellwright bundle gives the same intensities as from its run
folder: the bundle carries how outputs return to intensities (the training pairs' brightness relation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe

REPO = Path(__file__).resolve().parents[3]


def _predict(model: Path, images: Path, out: Path) -> np.ndarray:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "builder.cli.main", "predict", str(model), str(images), "--out",
                           str(out)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return tifffile.imread(next(out.glob("*_restored.tif")))


def test_bundle_restores_the_same_intensities_as_the_run(tmp_path: Path):
    from builder.workflow.export_job import export_run

    path = tiny_recipe(tmp_path, "image_to_image", extra_train={"optimizer": {"learning_rate": 0.01}})
    outcome = train_recipe(path, runs_dir=tmp_path / "runs", evaluate=False, report=False, export=False)
    relation = json.loads((outcome.run_dir / "normalization.json").read_text())["target_from_input"]
    assert relation and not np.allclose(relation["scale"], 1.0, atol=1e-3)  # else the check below cannot fail
    export_run(outcome.run_dir, formats=["bundle"], out_dir=tmp_path / "export")
    bundle = next((tmp_path / "export").glob("*.zip"))
    images = tmp_path / "new"
    images.mkdir()
    source = next((tmp_path / "data").rglob("*.tif"))
    tifffile.imwrite(images / "one.tif", tifffile.imread(source))
    from_run = _predict(outcome.run_dir, images, tmp_path / "from_run")
    from_bundle = _predict(bundle, images, tmp_path / "from_bundle")
    np.testing.assert_allclose(from_bundle, from_run, rtol=1e-4, atol=1e-4 * float(np.abs(from_run).max()))

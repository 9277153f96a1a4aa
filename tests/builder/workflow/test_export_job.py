"""A finished run exports itself (bundle), exports again on demand with its own test patch, and its bundle
predicts new images with nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from builder.cli.main import main
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.predict_helpers import imported_modules
from tests.builder.workflow.train_fixtures import tiny_recipe

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_run_exports_bundle_and_onnx_and_bundle_predicts(tmp_path: Path, capsys):
    recipe_path = tiny_recipe(tmp_path, "segmentation")
    recipe = yaml.safe_load(recipe_path.read_text())
    recipe["export"] = {"formats": ["bundle"]}
    recipe_path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    outcome = train_recipe(recipe_path, runs_dir=tmp_path / "runs")
    bundle = Path(outcome.exports[0]["path"])
    assert bundle.is_file() and outcome.exports[0]["checks"][0]["max_abs_diff"] <= 1e-4
    names = zipfile.ZipFile(bundle).namelist()
    assert {"model.keras", "recipe.yaml", "MANIFEST.sha256", "model.onnx"} <= set(names)  # + the ONNX copy
    from builder.export.metadata import metadata_from_recipe
    from builder.export.test_tensors import normalise

    raw = np.load(outcome.run_dir / "test_input_raw.npy")  # the run's own validation image, not a synthetic one
    expected = normalise(metadata_from_recipe(yaml.safe_load((outcome.run_dir / "recipe.yaml").read_text()))
                         .normalization, raw)
    with zipfile.ZipFile(bundle) as archive, archive.open("test_input.npy") as handle:
        assert np.array_equal(np.load(handle), expected)

    assert main(["export", str(outcome.run_dir), "--format", "onnx", "--out", str(tmp_path / "x"), "--json"]) == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    assert "synthetic" not in captured.err
    assert results[0]["format"] == "onnx" and results[0]["checks"][0]["max_abs_diff"] < 1e-4

    image = tifffile.imread(sorted((tmp_path / "data" / "images").iterdir())[0])
    big = np.tile(image, (2, 2))  # larger than the 32 px tiles
    tifffile.imwrite(tmp_path / "new.tif", big)
    assert main(["predict", str(bundle), str(tmp_path / "new.tif"), "--out", str(tmp_path / "pred")]) == 0
    mask = tifffile.imread(tmp_path / "pred" / "new_mask.tif")
    assert mask.shape == big.shape and set(np.unique(mask)) <= {0, 1}

    # the bundle's ONNX copy: a fresh process predicts without TensorFlow, and the masks equal Keras'
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "builder.cli.main", "predict", str(bundle),
                           str(tmp_path / "new.tif"), "--out", str(tmp_path / "pred_onnx"), "--engine", "onnx"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Network engine: ONNX Runtime" in proc.stdout
    assert not imported_modules(proc.stderr) & {"tensorflow", "keras"}
    assert main(["predict", str(bundle), str(tmp_path / "new.tif"), "--out", str(tmp_path / "pred_keras"),
                 "--engine", "keras"]) == 0
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "pred_onnx" / "new_mask.tif"),
                                  tifffile.imread(tmp_path / "pred_keras" / "new_mask.tif"))

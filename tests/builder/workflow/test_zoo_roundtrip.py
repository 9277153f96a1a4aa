"""A user's first run goes to the BioImage Model Zoo and back: the package exports from the run (recipe and
CLI, with and without --test-input) and `cellwright predict` runs the zip it wrote."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from builder.cli.main import main
from builder.run_folder import RunFolder
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe


def _rdf(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return yaml.safe_load(archive.read("rdf.yaml"))


@pytest.mark.slow
def test_first_run_exports_to_the_zoo_and_predicts_from_it(tmp_path: Path, capsys):
    task = "instance_segmentation"  # a task that learns from masks (the reported failure)
    recipe_path = tiny_recipe(tmp_path, task)
    recipe = yaml.safe_load(recipe_path.read_text())
    recipe["export"] = {"formats": ["bioimageio"]}
    recipe_path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    outcome = train_recipe(recipe_path, runs_dir=tmp_path / "runs")
    run = RunFolder(outcome.run_dir)
    raw = run.read_raw_test_input()
    assert raw is not None and raw.shape[1] % 4 == 0 and raw.max() > 2  # raw microscope values, not normalised
    zoo = Path(outcome.exports[0]["path"])
    rdf = _rdf(zoo)
    with zipfile.ZipFile(zoo) as archive:
        assert np.array_equal(np.load(archive.open("test_input.npy")), raw)
    assert rdf["inputs"][0]["axes"][1]["size"]["step"] == 4  # depth-2 U-Net: multiples of 4
    assert max(c["max_abs_diff"] for c in outcome.exports[0]["checks"]) < 1e-4

    run.write_postprocess({"threshold": 0.61, "seed_threshold": 0.77, "min_size": 3})
    image = tifffile.imread(sorted((tmp_path / "data" / "images").iterdir())[0])
    tifffile.imwrite(tmp_path / "mine.tif", image)
    assert main(["export", str(run.path), "--format", "bioimageio", "--test-input", str(tmp_path / "mine.tif"),
                 "--out", str(tmp_path / "cli"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    rdf = _rdf(Path(result["path"]))
    assert {a["id"]: a["size"]["step"] for a in rdf["inputs"][0]["axes"][1:3]} == {"y": 4, "x": 4}
    assert rdf["config"]["cellwright"]["postprocess"]["seed_threshold"] == 0.77  # the tuned values, kept

    big = np.tile(image, (2, 2))
    tifffile.imwrite(tmp_path / "new.tif", big)
    assert main(["predict", str(zoo), str(tmp_path / "new.tif"), "--out", str(tmp_path / "pred")]) == 0
    labels = tifffile.imread(tmp_path / "pred" / "new_labels.tif")
    assert labels.shape == big.shape

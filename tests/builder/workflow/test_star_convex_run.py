"""End to end with ``train.instance_target: star_convex``: train, tune, evaluate, report, export, predict."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from builder.cli.main import main
from builder.data.readers import read_image
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe


@pytest.mark.slow
def test_tiny_star_convex_run_predicts_from_run_and_bundle(tmp_path: Path):
    recipe_path = tiny_recipe(tmp_path, "instance_segmentation", epochs=2,
                              extra_train={"instance_target": "star_convex"})
    recipe = yaml.safe_load(recipe_path.read_text())
    recipe["export"] = {"formats": ["bundle"]}
    recipe["report"] = {"enabled": True, "formats": ["html"]}
    recipe_path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    outcome = train_recipe(recipe_path, runs_dir=tmp_path / "runs")
    run = outcome.run_dir

    tuned = json.loads((run / "postprocess.json").read_text())
    assert {"threshold", "nms_threshold", "min_size", "tuned_on"} <= set(tuned) and "seed_threshold" not in tuned
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["postprocess"]["nms_threshold"] == tuned["nms_threshold"]
    assert np.isfinite(metrics["headline"]["value"])
    html = outcome.reports[0].read_text()
    assert "star-convex polygons" in html and "Schmidt et al., 2018" in html and "largest overlap (NMS)" in html

    bundle = Path(outcome.exports[0]["path"])
    with zipfile.ZipFile(bundle) as archive:
        packed = yaml.safe_load(archive.read("recipe.yaml"))
    assert packed["train"]["instance_target"] == "star_convex"

    image = tifffile.imread(sorted((tmp_path / "data" / "images").iterdir())[0])
    tifffile.imwrite(tmp_path / "new.tif", np.tile(image, (2, 2)))  # larger than the 32 px tiles
    for source, out in ((run, "from_run"), (bundle, "from_bundle")):
        assert main(["predict", str(source), str(tmp_path / "new.tif"), "--out", str(tmp_path / out),
                     "--probabilities"]) == 0
        prob = read_image(tmp_path / out / "new_prob.tif").array
        labels = tifffile.imread(tmp_path / out / "new_labels.tif")
        assert prob.shape[-1] == 1 and labels.shape == prob.shape[:2]  # the object probability, not the rays
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "from_run" / "new_labels.tif"),
                                  tifffile.imread(tmp_path / "from_bundle" / "new_labels.tif"))

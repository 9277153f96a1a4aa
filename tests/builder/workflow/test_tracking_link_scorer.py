"""The learned link scorer is trained once, saved with the run and its bundle, and used by evaluate and predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from builder.errors import CellwrightError
from builder.run_folder import files
from builder.workflow.evaluate_job import evaluate_run
from builder.workflow.predict_job import predict_paths
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe


def _far_link_scorer(path: Path) -> None:
    """A real Keras scorer that trusts far links and distrusts near ones (feature 0: distance / radius)."""
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.layers[0].set_weights([np.array([[8.0], [-8.0], [0.0], [0.0]], np.float32), np.array([-3.0], np.float32)])
    model.save(path)


def _tracks(folder: Path) -> tuple[str, np.ndarray]:
    masks = np.stack([tifffile.imread(p) for p in sorted((folder / "tracks").glob("mask*.tif"))])
    return (folder / "tracks" / "res_track.txt").read_text(), masks


@pytest.mark.slow
def test_learned_scorer_is_saved_and_used_by_evaluate_predict_and_the_bundle(tmp_path: Path):
    path = tiny_recipe(tmp_path, "tracking", epochs=1)
    recipe = yaml.safe_load(path.read_text())
    recipe["evaluate"] = {"tracking": {"link_scorer": "learned"}, "postprocess": {"tune": False}}
    recipe["export"] = {"formats": ["bundle"]}
    path.write_text(yaml.safe_dump(recipe))
    run = train_recipe(path, runs_dir=tmp_path / "runs").run_dir
    scorer_file = run / files.LINK_SCORER.name
    assert scorer_file.is_file()
    evaluated = json.loads((run / "metrics.json").read_text())["tracks"]
    assert evaluate_run(run)["tracks"] == evaluated  # evaluate again: the saved scorer, not a new one

    movie = np.stack([tifffile.imread(tmp_path / "data" / "01" / f"t{t:03d}.tif") for t in range(6)])
    tifffile.imwrite(tmp_path / "movie.tif", movie, metadata={"axes": "TYX"})
    bundle = next((run / "exports").glob("*.zip"))
    predict_paths(run, [tmp_path / "movie.tif"], tmp_path / "run")
    predict_paths(bundle, [tmp_path / "movie.tif"], tmp_path / "bundle")
    text, masks = _tracks(tmp_path / "run")
    bundle_text, bundle_masks = _tracks(tmp_path / "bundle")
    assert text == bundle_text and (masks == bundle_masks).all()  # the bundle carries the same scorer
    assert len(text.splitlines()) < len(np.unique(masks[masks > 0])) * len(masks)  # cells were linked

    _far_link_scorer(scorer_file)  # another scorer in the run folder: evaluate and predict follow it
    assert evaluate_run(run)["tracks"] != evaluated
    predict_paths(run, [tmp_path / "movie.tif"], tmp_path / "far")
    assert _tracks(tmp_path / "far")[0] != text

    scorer_file.unlink()
    with pytest.raises(CellwrightError, match="link_scorer=learned and a model without one") as info:
        predict_paths(run, [tmp_path / "movie.tif"], tmp_path / "none")
    assert info.value.where == "evaluate.tracking.link_scorer"

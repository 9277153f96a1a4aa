"""A tracking recipe that names a trained segmenter (``model: {from: RUN}``) trains nothing and tracks with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from builder.errors import CellwrightError, RecipeError
from builder.recipe import load_recipe
from builder.workflow.model_source import open_model_source
from builder.workflow.predict_job import predict_paths
from builder.workflow.train_job import train_recipe
from tests.builder.tracking.timelapse_files import moving_cells, write_ome_tiff
from tests.builder.workflow.train_fixtures import tiny_recipe


def _tracking_recipe(tmp_path: Path, segmenter: str, task: str = "tracking") -> Path:
    frames, labels = moving_cells(n_frames=8, shape=(32, 32))
    (tmp_path / "movies").mkdir(exist_ok=True)
    write_ome_tiff(tmp_path / "movies" / "01.ome.tif", frames)
    write_ome_tiff(tmp_path / "movies" / "01_labels.ome.tif", labels.astype(np.uint16))
    recipe = {"cellwright": 1, "name": "linked", "task": task, "model": {"from": segmenter},
              "data": {"layout": "ctc", "root": "movies", "split": {"mode": "random", "validation": 0.25,
                                                                    "test": 0.5}},
              "evaluate": {"postprocess": {"tune": False}},
              "report": {"enabled": False}, "export": {"formats": []}}
    path = tmp_path / "linked.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


@pytest.mark.slow
def test_tracking_with_a_trained_segmenter_links_without_training(tmp_path: Path):
    seg_run = train_recipe(tiny_recipe(tmp_path, "tracking", epochs=1), runs_dir=tmp_path / "runs",
                           export=False).run_dir
    relative = Path("runs") / seg_run.name
    outcome = train_recipe(_tracking_recipe(tmp_path, str(relative)), runs_dir=tmp_path / "runs2", export=False)
    run = outcome.run_dir
    assert outcome.epochs_completed == 0 and not (run / "history.csv").exists()  # nothing trained
    theirs, ours = open_model_source(seg_run), open_model_source(run)
    for a, b in zip(theirs.model.get_weights(), ours.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours.recipe.preprocess == theirs.recipe.preprocess  # frames are treated like the segmenter's data
    assert Path(ours.recipe.model.from_).is_absolute()
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["metrics"]["TRA"] <= 1.0 and len(metrics["per_image"]) == 4

    frames, _ = moving_cells(n_frames=3, shape=(32, 32))
    write_ome_tiff(tmp_path / "new.ome.tif", frames)
    predict_paths(run, [tmp_path / "new.ome.tif"], tmp_path / "ours")
    predict_paths(seg_run, [tmp_path / "new.ome.tif"], tmp_path / "theirs")
    for t in range(3):  # the same model, preprocessing and post-processing: the same labels
        import tifffile

        name = f"new_t{t:03d}_labels.tif"
        found = sorted(p.name for p in (tmp_path / "ours").iterdir())
        path = next((p for p in (tmp_path / "ours").iterdir() if p.name.endswith(f"{t:03d}_labels.tif")), None)
        assert path is not None, found
        np.testing.assert_array_equal(tifffile.imread(path), tifffile.imread(tmp_path / "theirs" / path.name))
        del name


def test_a_segmenter_that_does_not_separate_cells_or_does_not_exist_is_refused(tmp_path: Path):
    from builder.workflow.segmenter import open_segmenter

    recipe = load_recipe(_tracking_recipe(tmp_path, "no/such/run"))
    with pytest.raises(CellwrightError, match="does not exist") as info:
        open_segmenter(recipe)
    assert info.value.where.startswith("model.from")
    with pytest.raises(RecipeError) as refused:
        load_recipe(_tracking_recipe(tmp_path, "x", task="instance_segmentation"))
    assert any(p.key == "model.from" and "task tracking" in p.what for p in refused.value.problems)


@pytest.mark.slow
def test_a_bundle_zip_as_segmenter_tracks_like_the_bundle_itself(tmp_path: Path):
    import tifffile

    seg_recipe = tiny_recipe(tmp_path, "tracking", epochs=1)
    data = yaml.safe_load(seg_recipe.read_text())
    data["export"] = {"formats": ["bundle"]}
    seg_recipe.write_text(yaml.safe_dump(data))
    seg_run = train_recipe(seg_recipe, runs_dir=tmp_path / "runs").run_dir
    bundle = next((seg_run / "exports").glob("*.zip"))
    (tmp_path / "models").mkdir()
    shipped = tmp_path / "models" / bundle.name
    bundle.replace(shipped)  # the bundle alone: no run folder beside it
    outcome = train_recipe(_tracking_recipe(tmp_path, f"models/{shipped.name}"), runs_dir=tmp_path / "runs2",
                           export=False)
    run = outcome.run_dir
    assert outcome.epochs_completed == 0 and not (run / "history.csv").exists()  # nothing trained
    theirs, ours = open_model_source(shipped), open_model_source(run)
    assert theirs.kind == "bundle" and Path(ours.recipe.model.from_) == shipped.resolve()
    for a, b in zip(theirs.model.get_weights(), ours.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours.recipe.preprocess.normalize == theirs.recipe.preprocess.normalize
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["metrics"]["TRA"] <= 1.0 and len(metrics["per_image"]) == 4 and metrics["tracks"]

    frames, _ = moving_cells(n_frames=3, shape=(32, 32))
    write_ome_tiff(tmp_path / "new.ome.tif", frames)
    predict_paths(run, [tmp_path / "new.ome.tif"], tmp_path / "ours")
    predict_paths(shipped, [tmp_path / "new.ome.tif"], tmp_path / "theirs")
    for t in range(3):  # the bundle's model, normalisation and thresholds: the same labels
        name = next(p.name for p in (tmp_path / "ours").iterdir() if p.name.endswith(f"{t:03d}_labels.tif"))
        np.testing.assert_array_equal(tifffile.imread(tmp_path / "ours" / name),
                                      tifffile.imread(tmp_path / "theirs" / name))
    assert (tmp_path / "ours" / "tracks" / "res_track.txt").is_file()

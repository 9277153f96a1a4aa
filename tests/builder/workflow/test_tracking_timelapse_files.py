"""Tracking trained on an OME-TIFF time-lapse with a label time-lapse, then predicting an OME-Zarr time-lapse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from builder.tracking.ctc_files import read_ctc_result
from builder.workflow.predict_job import predict_paths
from builder.workflow.train_job import train_recipe
from tests.builder.tracking.timelapse_files import moving_cells, write_ome_tiff, write_ome_zarr


@pytest.mark.slow
def test_tracking_trains_on_an_ome_tiff_time_lapse_and_predicts_an_ome_zarr_one(tmp_path: Path):
    pytest.importorskip("zarr")
    frames, labels = moving_cells(n_frames=10, shape=(32, 32))
    (tmp_path / "data").mkdir()
    write_ome_tiff(tmp_path / "data" / "movie.ome.tif", frames)
    write_ome_tiff(tmp_path / "data" / "movie_labels.ome.tif", labels.astype(np.uint16))
    recipe = {"cellwright": 1, "name": "tl", "task": "tracking",
              "data": {"layout": "ctc", "root": "data", "split": {"mode": "random", "validation": 0.2, "test": 0.3}},
              "preprocess": {"patch": {"size": 32, "per_image": 2}, "tile": {"size": 32, "overlap": 8}},
              "model": {"template": "unet", "params": {"depth": 2, "base_filters": 4}},
              "train": {"epochs": 1, "batch_size": 4, "steps_per_epoch": 2, "early_stopping": {"enabled": False}},
              "report": {"enabled": False}, "export": {"formats": []}}
    (tmp_path / "tl.yaml").write_text(yaml.safe_dump(recipe))
    run = train_recipe(tmp_path / "tl.yaml", runs_dir=tmp_path / "runs", export=False).run_dir
    split = json.loads((run / "split.json").read_text())
    assert [s["frame"] for s in split["splits"]["test"]] == [7, 8, 9]  # split by time
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["metrics"]["TRA"] <= 1.0 and len(metrics["per_image"]) == 3
    assert all(t["begin"] >= 7 for t in metrics["tracks"])  # frame numbers of the sequence file

    write_ome_zarr(tmp_path / "new.ome.zarr", frames[:4])
    summary = predict_paths(run, [tmp_path / "new.ome.zarr"], tmp_path / "pred")
    assert summary["n_images"] == 4  # one row per frame of the OME-Zarr time-lapse
    masks, rows = read_ctc_result(tmp_path / "pred" / "tracks")
    assert masks.shape == (4, 32, 32) and masks.dtype == np.uint16

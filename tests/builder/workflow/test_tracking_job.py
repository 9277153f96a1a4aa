"""Tracking end to end on a tiny demo time-lapse: train, evaluate with CTC measures, report, predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from builder.tracking.ctc_files import read_ctc_result
from builder.workflow.predict_job import predict_paths
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe


@pytest.mark.slow
def test_tracking_trains_scores_reports_and_predicts_a_time_lapse(tmp_path: Path):
    recipe = tiny_recipe(tmp_path, "tracking", epochs=1)
    outcome = train_recipe(recipe, runs_dir=tmp_path / "runs", export=False)
    run = outcome.run_dir
    split = json.loads((run / "split.json").read_text())
    frames = {split_name: sorted(int(Path(n).stem[1:]) for n in split[split_name]) for split_name in
              ("train", "validation", "test")}
    assert max(frames["train"]) < min(frames["validation"]) < min(frames["test"])  # split by time
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "tracking" and metrics["headline"]["key"] == "TRA"
    for key in ("TRA", "DET", "LNK", "SEG", "CT"):
        assert 0.0 <= metrics["metrics"][key] <= 1.0, key
    assert metrics["tracks"] and all(t["begin"] >= min(frames["test"]) for t in metrics["tracks"])

    from builder.report.build import build_report

    html = build_report(run, formats=("html",))[0].read_text()
    assert "Lineage" in html and "Tracks over time" in html

    movie = np.stack([tifffile.imread(tmp_path / "data" / "01" / f"t{t:03d}.tif") for t in range(4)])
    tifffile.imwrite(tmp_path / "movie.tif", movie, metadata={"axes": "TYX"})
    summary = predict_paths(run, [tmp_path / "movie.tif"], tmp_path / "pred")
    assert summary["n_images"] == 4  # one row per frame
    masks, rows = read_ctc_result(tmp_path / "pred" / "tracks")
    assert masks.shape == movie.shape and masks.dtype == np.uint16
    for row in rows:  # every label is present in every frame from its start to its end
        assert [t for t in range(len(masks)) if (masks[t] == row.label).any()] == list(range(row.begin, row.end + 1))
    table = (tmp_path / "pred" / "tracks.csv").read_text().splitlines()
    assert table[0].split(",")[:3] == ["track_id", "frame", "centroid_y"]

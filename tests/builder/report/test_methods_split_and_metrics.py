"""The Methods paragraph says how the data were really split, the resampling, and metric names a reader knows."""

from __future__ import annotations

from builder.report.methods import methods_text
from builder.report.run_data import RunData


def _run(tmp_path, **recipe_parts):
    recipe = {"task": "instance_segmentation", "data": {"split": {"mode": "random", "seed": 7}},
              "preprocess": {"patch": {"size": 128}}, **recipe_parts}
    metrics = {"split": "test", "n_images": 6, "headline": {"name": "AP@0.5", "value": 0.8},
               "metrics": {"ap@0.5": 0.8, "ap_mean": 0.6, "f1_mean": 0.7, "merges": 3.0, "f1@0.5": 0.85}}
    rows = {"train": [{"image_path": "a.tif"}] * 8, "validation": [{"image_path": "b.tif"}] * 2,
            "test": [{"image_path": "c.tif"}] * 6}
    split = {"splits": rows, **{k: [r["image_path"] for r in v] for k, v in rows.items()}}  # as split.json holds
    return RunData(tmp_path, recipe=recipe, metrics=metrics, split=split)


def test_random_split_and_readable_metric_names(tmp_path):
    text, _ = methods_text(_run(tmp_path))
    assert "split at random (seed 7" in text
    assert "we report AP@0.5, F1@0.5, Mean AP, IoU 0.5-0.9, Merges" in text
    assert "ap mean" not in text and "f1 mean" not in text


def test_fixed_folders_are_not_called_random(tmp_path):
    text, _ = methods_text(_run(tmp_path, data={"split": {"mode": "folders", "seed": 7}}))
    assert "split at random" not in text and "fixed folders" in text


def test_manifest_split_column_is_named(tmp_path):
    run = _run(tmp_path)
    run.split["splits"]["test"] = [{"image_path": "c.tif", "split": "test"}] * 6
    text, _ = methods_text(run)
    assert "manifest's split column" in text


def test_resampling_is_stated(tmp_path):
    text, _ = methods_text(_run(tmp_path, preprocess={"patch": {"size": 128}, "resample_to": 0.5}))
    assert "resampled to 0.5 µm per pixel and cut into 128 x 128 px patches" in text

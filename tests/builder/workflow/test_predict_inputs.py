"""``cellwright predict`` on hostile inputs: wrong channels, z-stacks, broken and foreign files in a batch."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from builder.errors import CellwrightError
from builder.workflow.predict_job import predict_paths
from tests.builder.workflow.predict_helpers import (
    DISKS,
    disk_image,
    disk_labels,
    write_threshold_instance_run,
    write_tiff,
)


@pytest.fixture(scope="module")
def instance_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "run"
    return write_threshold_instance_run(run)


def _labels(out, stem):
    return tifffile.imread(out / f"{stem}_labels.tif")


def test_rgb_image_into_grey_model_is_skipped_with_channel_advice(tmp_path, instance_run):
    grey = disk_image(disk_labels())
    rgb = np.stack([grey // 8, (grey // 5).clip(0, 255), grey // 16], axis=-1).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    summary = predict_paths(instance_run, [tmp_path / "rgb.tif"], tmp_path / "out")
    assert summary["n_images"] == 0 and len(summary["skipped"]) == 1
    entry = summary["skipped"][0]
    assert "RGB" in entry["what"] and "3 channels" in entry["what"] and "takes 1 channel" in entry["what"]
    assert "--channel" in entry["fix"]

    summary = predict_paths(instance_run, [tmp_path / "rgb.tif"], tmp_path / "out2", channels=["green"])
    assert summary["skipped"] == [] and _labels(tmp_path / "out2", "rgb").max() == len(DISKS)


def test_unlabelled_z_stack_read_as_channels_needs_project(tmp_path, instance_run):
    labels = disk_labels()
    planes = np.stack([disk_image(labels, high=200 + 100 * k) for k in range(12)])  # brightest plane last
    tifffile.imwrite(tmp_path / "stack.tif", planes)  # no axes metadata: read as 12 channels
    summary = predict_paths(instance_run, [tmp_path / "stack.tif"], tmp_path / "out")
    entry = summary["skipped"][0]
    assert "stack of 12 planes" in entry["what"] and "--project max" in entry["fix"]

    summary = predict_paths(instance_run, [tmp_path / "stack.tif"], tmp_path / "proj", project="max")
    assert not summary["skipped"]
    assert np.array_equal(_labels(tmp_path / "proj", "stack") > 0, labels > 0)


def test_imagej_z_stack_is_projected(tmp_path, instance_run):
    labels = disk_labels()
    planes = np.stack([disk_image(labels) // (k + 1) for k in range(5)])
    tifffile.imwrite(tmp_path / "z.tif", planes, imagej=True, metadata={"axes": "ZYX"})
    summary = predict_paths(instance_run, [tmp_path / "z.tif"], tmp_path / "out")
    assert "3D stack with 5 z-slices" in summary["skipped"][0]["what"]
    assert "--project max" in summary["skipped"][0]["fix"]
    summary = predict_paths(instance_run, [tmp_path / "z.tif"], tmp_path / "proj", project="max")
    assert not summary["skipped"] and _labels(tmp_path / "proj", "z").max() == len(DISKS)


def test_unreadable_file_is_skipped_and_tables_are_written(tmp_path, instance_run):
    image = disk_image(disk_labels())
    write_tiff(tmp_path / "in" / "a.tif", image)
    write_tiff(tmp_path / "in" / "b.tif", image)
    data = (tmp_path / "in" / "b.tif").read_bytes()
    (tmp_path / "in" / "b.tif").write_bytes(data[: len(data) // 3])  # truncated
    write_tiff(tmp_path / "in" / "c.tif", image[:, ::-1].copy())
    (tmp_path / "in" / "plate.oib").write_bytes(b"OIB")  # a format no reader here takes
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-m", "builder.cli.main", "predict", str(instance_run),
                           str(tmp_path / "in"), "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "2 file(s) skipped" in proc.stdout and "b.tif" in proc.stdout and "plate.oib" in proc.stdout
    assert "skip_unreadable" not in proc.stdout and "cellwright[formats]" in proc.stdout
    with (tmp_path / "out" / "objects.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted({r["file"] for r in rows}) == ["a.tif", "c.tif"] and len(rows) == 2 * len(DISKS)


def test_foreign_formats_are_named_before_the_model_is_loaded(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")  # loading it would fail
    (tmp_path / "in").mkdir()
    for name in ("a.oib", "b.vsi", "c.ims"):  # formats no reader here takes (CZI/ND2/LIF: the formats extra)
        (tmp_path / "in" / name).write_bytes(b"vendor")
    with pytest.raises(CellwrightError) as info:
        predict_paths(tmp_path / "notes.txt", [tmp_path / "in"], tmp_path / "out")
    text = info.value.format()
    assert "Olympus OIB" in text and "Olympus VSI" in text and "Imaris" in text
    assert "cellwright[formats]" in text
    with pytest.raises(CellwrightError, match="Olympus OIB"):
        predict_paths(tmp_path / "notes.txt", [tmp_path / "in" / "a.oib"], tmp_path / "out")

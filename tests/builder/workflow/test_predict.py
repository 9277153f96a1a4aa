"""``cellwright predict``: outputs per task, pixel size kept, per-object tables, CSV, overwrite protection."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import tifffile

from builder.cli.main import main
from builder.data.readers import read_image
from builder.errors import CellwrightError
from builder.workflow.predict_job import predict_paths
from tests.builder.workflow.predict_helpers import (
    DISKS,
    brightness_classifier,
    disk_image,
    disk_labels,
    identity_model,
    make_recipe,
    threshold_model,
    write_run,
    write_threshold_instance_run,
    write_tiff,
)


def _rows(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def instance_run(tmp_path):
    return write_threshold_instance_run(tmp_path / "run")


def test_instance_labels_objects_and_pixel_size(tmp_path, instance_run):
    labels = disk_labels()
    image = disk_image(labels)  # 48 x 56: larger than the 32 px tiles
    write_tiff(tmp_path / "in" / "a.tif", image, pixel_size=0.5)
    write_tiff(tmp_path / "in" / "b.tif", image[:, ::-1].copy(), pixel_size=0.5)
    events = []
    summary = predict_paths(instance_run, [tmp_path / "in"], tmp_path / "out", events=events.append,
                            probabilities=True, shape_measurements=True)

    out = tmp_path / "out"
    assert summary["n_images"] == 2 and summary["task"] == "instance_segmentation"
    pred = read_image(out / "a_labels.tif")
    assert pred.pixel_size == pytest.approx(0.5)
    assert tifffile.imread(out / "a_labels.tif").dtype == np.uint16
    pred_labels = pred.array[..., 0]
    assert pred_labels.shape == labels.shape and pred_labels.max() == len(DISKS)
    prob = read_image(out / "a_prob.tif")
    assert prob.array.shape == (48, 56, 3) and prob.array.dtype == np.float32
    assert prob.pixel_size == pytest.approx(0.5)

    rows = _rows(out / "a_objects.csv")
    assert len(rows) == len(DISKS)
    for row in rows:
        obj = pred_labels == int(row["label"])
        true_id = np.bincount(labels[obj]).argmax()
        assert np.array_equal(obj, labels == true_id)
        ys, xs = np.nonzero(labels == true_id)
        assert int(row["area"]) == ys.size
        assert float(row["centroid_y"]) == pytest.approx(ys.mean())
        assert float(row["centroid_x"]) == pytest.approx(xs.mean())
        assert float(row["mean_intensity_ch0"]) == pytest.approx(1100.0)
        assert float(row["area_um2"]) == pytest.approx(ys.size * 0.25)
        assert 0.8 < float(row["solidity"]) <= 1.0 and float(row["eccentricity"]) < 0.5
    combined = _rows(out / "objects.csv")
    assert len(combined) == 2 * len(DISKS)
    assert {r["file"] for r in combined} == {"a.tif", "b.tif"}
    names = [e["event"] for e in events]
    assert names[0] == "start" and names[-1] == "done" and names.count("batch") == 2


def test_existing_outputs_are_not_overwritten_without_force(tmp_path, instance_run, capsys):
    write_tiff(tmp_path / "a.tif", disk_image(disk_labels()))
    out = tmp_path / "out"
    assert main(["predict", str(instance_run), str(tmp_path / "a.tif"), "--out", str(out)]) == 0
    before = (out / "a_labels.tif").stat().st_mtime_ns
    with pytest.raises(CellwrightError, match="--force"):
        predict_paths(instance_run, [tmp_path / "a.tif"], out)
    assert main(["predict", str(instance_run), str(tmp_path / "a.tif"), "--out", str(out)]) == 2
    assert "already exist" in capsys.readouterr().err
    assert (out / "a_labels.tif").stat().st_mtime_ns == before
    assert main(["predict", str(instance_run), str(tmp_path / "a.tif"), "--out", str(out), "--force",
                 "--events"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines[0]["event"] == "start" and lines[-1]["event"] == "done"


def test_classification_csv_from_a_keras_file_next_to_its_recipe(tmp_path, capsys):
    recipe = make_recipe("classification", classes=["dim", "bright"])
    run = write_run(tmp_path / "run", brightness_classifier(16), recipe)
    bright = np.full((40, 30), 900, np.uint16)
    bright[:5] = 100
    dim = np.full((24, 24), 100, np.uint16)
    dim[:4] = 900
    write_tiff(tmp_path / "in" / "bright.tif", bright)
    write_tiff(tmp_path / "in" / "dim.tif", dim)
    code = main(["predict", str(run / "checkpoints" / "best.keras"), str(tmp_path / "in"), "--out",
                 str(tmp_path / "out"), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_images"] == 2
    rows = {r["file"].split("/")[-1]: r for r in _rows(tmp_path / "out" / "predictions.csv")}
    assert rows["bright.tif"]["class"] == "bright" and rows["dim.tif"]["class"] == "dim"
    for row in rows.values():
        p = float(row["p_dim"]), float(row["p_bright"])
        assert sum(p) == pytest.approx(1.0, abs=1e-5)
        assert float(row["probability"]) == pytest.approx(max(p))


def test_segmentation_from_a_bundle(tmp_path):
    from builder.export.bundle import write_bundle
    from builder.export.metadata import ExportMetadata

    recipe = make_recipe("segmentation", classes=["background", "nucleus"])
    model = threshold_model(2)
    metadata = ExportMetadata(name="tiny seg", task="segmentation", class_names=["background", "nucleus"],
                              test_input=np.random.default_rng(0).random((1, 16, 16, 1)),
                              recipe=recipe.model_dump(mode="json"))
    write_bundle(model, metadata, tmp_path / "model.zip")
    labels = disk_labels()
    write_tiff(tmp_path / "img.tif", disk_image(labels), pixel_size=0.65)
    predict_paths(tmp_path / "model.zip", [tmp_path / "img.tif"], tmp_path / "out", probabilities=True)
    mask = read_image(tmp_path / "out" / "img_mask.tif")
    assert mask.pixel_size == pytest.approx(0.65)
    np.testing.assert_array_equal(mask.array[..., 0], (labels > 0).astype(np.uint8))
    assert read_image(tmp_path / "out" / "img_prob.tif").array.shape == (48, 56, 2)


def test_restored_image_in_input_intensities(tmp_path):
    run = write_run(tmp_path / "run", identity_model(), make_recipe("image_to_image"))
    raw = (np.random.default_rng(3).random((40, 50)) * 3000 + 200).astype(np.uint16)
    write_tiff(tmp_path / "noisy.tif", raw, pixel_size=0.2)
    predict_paths(run, [tmp_path / "noisy.tif"], tmp_path / "out")
    restored = read_image(tmp_path / "out" / "noisy_restored.tif")
    assert restored.pixel_size == pytest.approx(0.2) and restored.array.dtype == np.float32
    np.testing.assert_allclose(restored.array[..., 0], raw, rtol=1e-4, atol=0.05)


def test_bad_inputs_are_user_errors(tmp_path, instance_run):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CellwrightError, match="no image files"):
        predict_paths(instance_run, [tmp_path / "empty"], tmp_path / "out")
    (tmp_path / "notes.txt").write_text("not a model")
    write_tiff(tmp_path / "a.tif", disk_image(disk_labels()))
    with pytest.raises(CellwrightError, match="not a model"):
        predict_paths(tmp_path / "notes.txt", [tmp_path / "a.tif"], tmp_path / "out")

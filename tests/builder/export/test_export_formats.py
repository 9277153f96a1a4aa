"""Each tiny model is exported in every stand-alone format and re-run from the written files."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from builder.errors import ExportError


def test_onnx_and_savedmodel_reproduce_segmentation(tmp_path, seg_model, seg_metadata):
    from builder.export.onnx import write_onnx
    from builder.export.savedmodel import write_savedmodel
    from builder.model_files.verify import keras_reference, run_onnx, run_savedmodel

    x = seg_metadata.test_input
    onnx_check = write_onnx(seg_model, tmp_path / "m.onnx", test_input=x, input_name="raw", output_name="prediction")
    sm_check = write_savedmodel(seg_model, tmp_path / "sm", test_input=x, input_name="raw", output_name="prediction")
    assert onnx_check.max_abs_diff < 1e-4 and sm_check.max_abs_diff < 1e-4
    # re-run the written files on a new image of another size (dynamic Y, X)
    other = np.random.default_rng(9).random((2, 24, 40, 2)).astype(np.float32)
    expected = keras_reference(seg_model, other)
    assert np.abs(run_onnx(tmp_path / "m.onnx", other) - expected).max() < 1e-4
    assert np.abs(run_savedmodel(tmp_path / "sm", other, "prediction") - expected).max() < 1e-4

    import onnxruntime
    import tensorflow as tf

    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["prediction"]
    signature = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    assert list(signature.structured_outputs) == ["prediction"]
    assert list(signature.structured_input_signature[1]) == ["raw"]
    assert not list(tmp_path.glob(".*"))  # no temporary leftovers from the atomic writes


def test_export_model_classification_every_standalone_format(tmp_path, cls_model, cls_metadata):
    from builder.export.api import export_model
    from builder.export.bundle import open_bundle

    results = export_model(cls_model, cls_metadata, tmp_path, ["bundle", "onnx", "savedmodel"])
    assert [r["format"] for r in results] == ["bundle", "onnx", "savedmodel"]
    for result in results:
        for check in result["checks"]:
            assert check["max_abs_diff"] <= 1e-4, result
    opened = open_bundle(tmp_path / "tiny_cells.cellwright.zip", tmp_path / "open")
    assert opened.metadata["class_names"] == ["G1", "S", "mitosis"]
    assert opened.metadata["normalization"]["method"] == "fixed"
    assert opened.test_output.shape == (2, 3)
    assert opened.checks[0].max_abs_diff <= 1e-6


def test_bundle_contents_and_manifest(tmp_path, seg_model, seg_metadata):
    from builder.export._files import sha256_file
    from builder.export.bundle import write_bundle

    report = tmp_path / "report.html"
    report.write_text("<html>report</html>")
    write_bundle(seg_model, seg_metadata, tmp_path / "b.zip", report=report)
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "x")
    assert {"model.keras", "recipe.yaml", "metadata.json", "test_input.npy", "test_output.npy", "README.md",
            "report.html", "LICENSE.txt", "CITATION.md", "MANIFEST.sha256"} <= names
    manifest = dict(line.split("  ")[::-1] for line in (tmp_path / "x/MANIFEST.sha256").read_text().splitlines())
    assert set(manifest) == names - {"MANIFEST.sha256"}
    assert all(sha256_file(tmp_path / "x" / n) == h for n, h in manifest.items())
    meta = json.loads((tmp_path / "x/metadata.json").read_text())
    assert meta["pixel_size"] == 0.65 and meta["channel_names"] == ["DAPI", "GFP-1"]
    assert meta["postprocess"]["min_size"] == 10
    assert "Ada Lovelace (Lab)" in (tmp_path / "x/CITATION.md").read_text()


def test_compare_refuses_difference_above_tolerance():
    from builder.model_files.verify import compare

    ref = np.zeros((1, 4, 4, 1), np.float32)
    assert compare("onnx", "m.onnx", ref, ref + 1e-6, 1e-4).max_abs_diff == pytest.approx(1e-6, rel=1e-3)
    with pytest.raises(ExportError, match=r"differs from the Keras model by up to 0\.01"):
        compare("onnx", "m.onnx", ref, ref + 0.01, 1e-4)
    with pytest.raises(ExportError, match="shape"):
        compare("onnx", "m.onnx", ref, ref[:, :2], 1e-4)


def test_missing_test_input_is_a_clear_error(tmp_path, seg_model, seg_metadata):
    from builder.export.bundle import write_bundle

    seg_metadata.test_input = None
    with pytest.raises(ExportError, match="No test input"):
        write_bundle(seg_model, seg_metadata, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()

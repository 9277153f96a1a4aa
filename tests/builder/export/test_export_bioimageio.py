"""BioImage Model Zoo packages: typed spec 0.5, three weights formats, validated offline, re-imported."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import yaml


def test_segmentation_package_validates_offline_and_reimports(tmp_path, seg_model, seg_metadata, offline):
    from builder.export.bioimageio import consumers_table, validate_package, write_bioimageio
    from builder.model_files.shared import open_shared

    result = write_bioimageio(seg_model, seg_metadata, tmp_path / "zoo.zip")
    assert result.status in ("valid-format", "passed")
    formats = {c.format: c.max_abs_diff for c in result.checks}
    assert set(formats) >= {"keras_hdf5", "savedmodel", "onnx", "test_input + declared preprocessing + keras"}
    assert max(formats.values()) < 1e-3
    with zipfile.ZipFile(tmp_path / "zoo.zip") as archive:
        rdf = yaml.safe_load(archive.read("rdf.yaml"))
    assert rdf["format_version"].startswith("0.5")
    assert rdf["weights"]["keras_hdf5"].get("parent") is None
    assert rdf["weights"]["onnx"]["parent"] == rdf["weights"]["tensorflow_saved_model_bundle"]["parent"] == "keras_hdf5"
    steps = [s["id"] for s in rdf["inputs"][0]["preprocessing"]]
    assert "scale_range" in steps
    scale = next(s for s in rdf["inputs"][0]["preprocessing"] if s["id"] == "scale_range")["kwargs"]
    assert (scale["min_percentile"], scale["max_percentile"]) == (1.0, 99.8)
    axes = rdf["inputs"][0]["axes"]
    assert [a["type"] for a in axes] == ["batch", "space", "space", "channel"]
    assert axes[3]["channel_names"] == ["DAPI", "GFP_1"] and axes[1]["scale"] == 0.65
    assert rdf["outputs"][0]["axes"][3]["channel_names"] == ["background", "boundary", "interior"]
    assert [c.get("doi") for c in rdf["cite"]] == ["10.1038/s41592-020-01018-x"]  # DOI-less citation left out
    assert "Consumers" in consumers_table() and "deepImageJ" in consumers_table()
    assert validate_package(tmp_path / "zoo.zip")[0] in ("valid-format", "passed")

    shared = open_shared(tmp_path / "zoo.zip", tmp_path / "open")
    assert shared.kind == "bioimageio" and shared.metadata["task"] == "segmentation"
    assert shared.checks[0].max_abs_diff < 1e-3


def test_classification_package_with_fixed_normalisation(tmp_path, cls_model, cls_metadata, offline):
    from builder.export.bioimageio import write_bioimageio

    result = write_bioimageio(cls_model, cls_metadata, tmp_path / "cls.zip")
    with zipfile.ZipFile(tmp_path / "cls.zip") as archive:
        rdf = yaml.safe_load(archive.read("rdf.yaml"))
        raw = np.load(archive.open("test_input.npy"), allow_pickle=False)
    linear = next(s for s in rdf["inputs"][0]["preprocessing"] if s["id"] == "scale_linear")["kwargs"]
    assert linear["gain"][0] == pytest.approx(1 / 3900) and linear["offset"][0] == pytest.approx(-100 / 3900)
    # the packaged test input holds raw values: the normalisation was undone so consumers can redo it
    assert raw.max() > 100 and np.allclose((raw - 100) / 3900, cls_metadata.test_input, atol=1e-5)
    assert [a["type"] for a in rdf["outputs"][0]["axes"]] == ["batch", "channel"]
    assert max(c.max_abs_diff for c in result.checks) < 1e-3


def test_patch_normalised_with_whole_image_percentiles_exports(tmp_path, seg_model, seg_metadata, offline):
    """The quickstart's failure: a patch normalised with its whole image's percentiles (not its own)."""
    from builder.export.bioimageio import write_bioimageio

    whole = np.random.default_rng(5).gamma(2.0, 100.0, size=(1, 96, 96, 2))
    lo = np.percentile(whole, 1.0, axis=(1, 2), keepdims=True)
    hi = np.percentile(whole, 99.8, axis=(1, 2), keepdims=True)
    seg_metadata.test_input = ((whole - lo) / (hi - lo))[:, 8:40, 8:40].astype(np.float32)
    result = write_bioimageio(seg_model, seg_metadata, tmp_path / "patch.zip")
    assert max(c.max_abs_diff for c in result.checks) < 1e-4


def test_raw_test_input_is_stored_raw_and_renormalised_like_a_consumer(tmp_path, seg_model, seg_metadata, offline):
    """Given a raw image, the package stores it raw and its test output is the model on the declared steps."""
    from bioimageio.spec import load_description

    from builder.export.bioimageio import write_bioimageio
    from builder.export.test_tensors import normalise
    from builder.model_files.zoo_preprocessing import apply_preprocessing

    raw = np.random.default_rng(6).gamma(2.0, 300.0, size=(1, 37, 45, 2)).astype(np.float32)
    seg_metadata.test_input, seg_metadata.raw_test_input, seg_metadata.size_multiple = None, raw, 8
    write_bioimageio(seg_model, seg_metadata, tmp_path / "raw.zip")
    with zipfile.ZipFile(tmp_path / "raw.zip") as archive:
        stored = np.load(archive.open("test_input.npy"), allow_pickle=False)
        expected = np.load(archive.open("test_output.npy"), allow_pickle=False)
        rdf = yaml.safe_load(archive.read("rdf.yaml"))
    assert stored.shape == (1, 32, 40, 2)  # centre-cropped to the size multiple, values untouched
    assert np.array_equal(stored, raw[:, 2:34, 2:42])
    assert {a["id"]: a["size"] for a in rdf["inputs"][0]["axes"][1:3]} == {
        "y": {"min": 16, "step": 8}, "x": {"min": 16, "step": 8}}
    descr = load_description(tmp_path / "raw.zip", perform_io_checks=False)
    x = apply_preprocessing(list(descr.inputs[0].preprocessing), stored)
    assert np.allclose(x, normalise(seg_metadata.normalization, stored), atol=1e-5)  # one rule, two writers
    assert np.abs(np.asarray(seg_model(x)) - expected).max() < 1e-5


def test_model_with_cellwright_layer_ships_savedmodel_and_onnx_only_and_reopens(tmp_path, seg_metadata, offline):
    """Other tools cannot load Cellwright's own layers from Keras files: those weights are left out, said so."""
    import keras

    from builder.backbones.layers import BackboneInput
    from builder.export.bioimageio import write_bioimageio
    from builder.model_files.shared import open_shared

    keras.utils.set_random_seed(7)
    inp = keras.Input((None, None, 2))
    x = BackboneInput(in_channels=2, channel_mode="repeat", preprocessing="tf", name="backbone_input")(inp)
    model = keras.Model(inp, keras.layers.Conv2D(3, 3, padding="same", activation="softmax")(x))
    result = write_bioimageio(model, seg_metadata, tmp_path / "own.zip")
    assert {c.format for c in result.checks} >= {"savedmodel", "onnx"} and "keras_hdf5" not in {
        c.format for c in result.checks}
    assert any("BackboneInput" in w and "left out" in w for w in result.warnings)
    rdf = _rdf_of(tmp_path / "own.zip")
    assert {k for k, v in rdf["weights"].items() if v} == {"tensorflow_saved_model_bundle", "onnx"}
    assert rdf["weights"]["onnx"]["parent"] == "tensorflow_saved_model_bundle"

    shared = open_shared(tmp_path / "own.zip", tmp_path / "open")  # through the SavedModel
    assert shared.checks[0].max_abs_diff < 1e-4
    x = np.random.default_rng(2).random((1, 24, 40, 2)).astype(np.float32)
    assert np.abs(np.asarray(shared.model(x)) - np.asarray(model(x))).max() < 1e-4


def _rdf_of(path):
    with zipfile.ZipFile(path) as archive:
        return yaml.safe_load(archive.read("rdf.yaml"))

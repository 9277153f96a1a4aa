"""The ONNX engine of ``predict``/``serve``: a run's fresh ONNX copy predicts exactly like Keras without importing
TensorFlow; a stale or damaged copy is not used; ``--engine onnx`` without a copy says how to make one.

Real parts throughout: small Keras networks with hand-set weights (a pooling/up-sampling branch, so the
receptive field and the tiling matter), real run folders and TIFFs, real ``cellwright`` subprocesses.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from builder.recipe import recipe_from_dict
from builder.run_folder import RunFolder, files
from builder.workflow.model_source import open_model_source
from builder.workflow.onnx_cache import DAMAGED, FRESH, MISSING, STALE, ensure_copy, refresh_after_keras
from builder.workflow.predict_job import predict_paths
from builder.workflow.receptive_field import network_reach
from tests.builder.workflow.predict_helpers import (
    brightness_classifier,
    disk_image,
    disk_labels,
    imported_modules,
    make_recipe,
    write_run,
    write_tiff,
)

ROOT = Path(__file__).resolve().parents[3]


def branchy_threshold_model(seed: int = 0, n_out: int = 3):
    """Brightness decides the class (as ``threshold_model``), nudged by a random pooled-and-upsampled branch."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((None, None, 1))
    deep = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")(inp)
    deep = keras.layers.MaxPooling2D(2)(deep)
    deep = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")(deep)
    deep = keras.layers.UpSampling2D(2)(deep)
    head = keras.layers.Conv2D(n_out, 1, activation="softmax")
    out = head(keras.layers.Concatenate()([inp, deep]))
    slope = np.linspace(-20.0, 20.0, n_out, dtype=np.float32)
    kernel = np.zeros((1, 1, 5, n_out), np.float32)
    kernel[0, 0, 0] = slope
    kernel[0, 0, 1:] = np.random.default_rng(seed).normal(0, 1.0, (4, n_out))
    head.set_weights([kernel, -slope / 2])
    return keras.Model(inp, out)


def restoration_model(seed: int = 0):
    """Two random 3x3 convolutions, linear output: a restoration network."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")(inp)
    out = keras.layers.Conv2D(1, 3, padding="same")(x)
    return keras.Model(inp, out)


def tiled_instance_recipe():
    """The instance recipe, but tiles of 32 px even for small images (so the recorded receptive field sets the
    overlap)."""
    data = make_recipe("instance_segmentation").model_dump(mode="json", by_alias=True, exclude_none=True)
    data["preprocess"]["tile"] = {"size": 32, "overlap": 4, "whole_image": False}
    return recipe_from_dict(data)


def big_disks() -> np.ndarray:
    """A 96 x 112 uint16 image of the test disks, mirrored four times."""
    tile = disk_image(disk_labels())
    return np.block([[tile, tile[:, ::-1]], [tile[::-1], tile[::-1, ::-1]]])


@pytest.fixture(scope="module")
def instance_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx-instance")
    model = branchy_threshold_model()
    run = write_run(root / "run", model, tiled_instance_recipe(),
                    postprocess={"threshold": 0.5, "seed_threshold": 0.5, "min_size": 5})
    assert ensure_copy(run, model).status == FRESH
    write_tiff(root / "in" / "a.tif", big_disks())
    return run, model, root / "in" / "a.tif"


def _labels(out: Path) -> np.ndarray:
    return tifffile.imread(out / "a_labels.tif")


def test_fresh_copy_predicts_in_a_new_process_without_tensorflow_and_equals_keras(instance_run, tmp_path):
    run, model, image = instance_run
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "builder.cli.main", "predict", str(run),
                           str(image), "--out", str(tmp_path / "onnx"), "--events"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    imported = imported_modules(proc.stderr)
    assert "builder" in imported and "onnxruntime" in imported  # the scan sees the child's imports
    assert not imported & {"tensorflow", "keras", "tf2onnx"}, sorted(imported & {"tensorflow", "keras"})
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    start = next(e for e in events if e["event"] == "start")
    assert start["engine"] == "onnx"
    line = next(e for e in events if e.get("kind") == "engine")
    assert "ONNX Runtime" in line["message"] and "best.keras" in line["message"]

    keras_summary = predict_paths(run, [image], tmp_path / "keras", engine="keras")
    assert keras_summary["engine"] == "keras"
    labels = _labels(tmp_path / "onnx")
    assert labels.max() >= 4  # objects were found, so equality means something
    np.testing.assert_array_equal(labels, _labels(tmp_path / "keras"))


def test_the_served_worker_loads_the_copy_without_tensorflow(instance_run, tmp_path):
    run, _, image = instance_run
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    request = json.dumps({"id": "r1", "images": [str(image)], "out": str(tmp_path / "out")})
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "builder.cli.main", "serve", str(run)],
                          input=request + "\n", capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not imported_modules(proc.stderr) & {"tensorflow", "keras"}
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    loaded = next(e for e in events if e.get("kind") == "model_loaded")
    assert loaded["engine"] == "onnx" and "ONNX Runtime" in loaded["message"]
    done = next(e for e in events if e["event"] == "done")
    assert done["code"] == 0 and done["engine"] == "onnx"
    assert _labels(tmp_path / "out").max() >= 4


def test_the_copy_records_the_keras_receptive_field(instance_run):
    run, model, _ = instance_run
    source = open_model_source(run, engine="onnx")
    assert source.engine == "onnx" and not callable(source.model)
    assert network_reach(source.model) == network_reach(model)
    assert tuple(source.model.inputs[0].shape) == (None, None, None, 1)
    assert tuple(source.model.outputs[0].shape) == (None, None, None, 3)


def _write_images(folder: Path, images: dict[str, np.ndarray]) -> list[Path]:
    return [write_tiff(folder / f"{name}.tif", array) for name, array in images.items()]


def test_classification_classes_equal_keras(tmp_path):
    model = brightness_classifier(16)
    run = write_run(tmp_path / "run", model, make_recipe("classification", classes=["dim", "bright"]))
    assert ensure_copy(run, model).status == FRESH
    rng = np.random.default_rng(1)
    images = {f"im{i}": (rng.uniform(0, 1, (20, 24)) * (300 + 700 * (i % 2)) + 100 * i).astype(np.uint16)
              for i in range(5)}
    paths = _write_images(tmp_path / "in", images)
    onnx = predict_paths(run, paths, tmp_path / "onnx", engine="onnx")
    keras = predict_paths(run, paths, tmp_path / "keras", engine="keras")
    assert (onnx["engine"], keras["engine"]) == ("onnx", "keras")

    def rows(out: Path) -> list[dict[str, str]]:
        with open(out / "predictions.csv", newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    a, b = rows(tmp_path / "onnx"), rows(tmp_path / "keras")
    assert [r["class"] for r in a] == [r["class"] for r in b]
    assert len({r["class"] for r in a}) == 2  # both classes occur
    assert {"probability", "p_dim", "p_bright"} <= set(a[0])
    for ra, rb in zip(a, b, strict=True):
        for key in ra:
            if key.startswith("p_") or key == "probability":
                assert abs(float(ra[key]) - float(rb[key])) <= 1e-5, (key, ra, rb)


def test_restoration_within_1e5_of_keras(tmp_path):
    model = restoration_model()
    run = write_run(tmp_path / "run", model, make_recipe("image_to_image"))
    assert ensure_copy(run, model).status == FRESH
    image = np.random.default_rng(2).integers(100, 2000, (40, 52)).astype(np.uint16)
    paths = _write_images(tmp_path / "in", {"a": image})
    predict_paths(run, paths, tmp_path / "onnx", engine="onnx")
    predict_paths(run, paths, tmp_path / "keras", engine="keras")
    a = tifffile.imread(tmp_path / "onnx" / "a_restored.tif").astype(np.float64)
    b = tifffile.imread(tmp_path / "keras" / "a_restored.tif").astype(np.float64)
    assert a.shape == b.shape == (40, 52) and np.ptp(b) > 0
    assert np.max(np.abs(a - b)) <= 1e-5 * max(1.0, float(np.max(np.abs(b))))


def test_a_rewritten_checkpoint_makes_the_copy_stale_and_keras_writes_a_fresh_one(tmp_path):
    first = branchy_threshold_model(seed=0)
    run = write_run(tmp_path / "run", first, make_recipe("instance_segmentation"))
    assert ensure_copy(run, first).status == FRESH
    image = write_tiff(tmp_path / "in" / "a.tif", disk_image(disk_labels()))
    checkpoint = RunFolder(run).require_model_checkpoint()

    os.utime(checkpoint, ns=(checkpoint.stat().st_atime_ns, checkpoint.stat().st_mtime_ns + 10**9))
    assert open_model_source(run, engine="auto").engine == "onnx"  # only touched (a copied run): still the same

    second = branchy_threshold_model(seed=5)
    second.save(checkpoint)  # resumed/retrained: same size class of file, other weights
    events: list[dict] = []
    source = open_model_source(run, engine="auto")
    assert (source.engine, source.onnx_copy) == ("keras", STALE)
    summary = predict_paths(source, [image], tmp_path / "stale", events=events.append)
    assert summary["engine"] == "keras"
    line = next(e for e in events if e.get("kind") == "engine")
    assert "Keras" in line["message"] and "checkpoint changed" in line["message"]

    assert refresh_after_keras(source).status == FRESH
    renewed = open_model_source(run, engine="auto")
    assert renewed.engine == "onnx"
    predict_paths(renewed, [image], tmp_path / "renewed")
    np.testing.assert_array_equal(_labels(tmp_path / "renewed"), _labels(tmp_path / "stale"))


def test_a_damaged_copy_falls_back_to_keras_with_a_log_line(tmp_path):
    model = branchy_threshold_model()
    run = write_run(tmp_path / "run", model, make_recipe("instance_segmentation"))
    assert ensure_copy(run, model).status == FRESH
    copy = RunFolder(run).file(files.ONNX_COPY)
    copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])  # a half-written file
    image = write_tiff(tmp_path / "in" / "a.tif", disk_image(disk_labels()))
    events: list[dict] = []
    summary = predict_paths(run, [image], tmp_path / "out", events=events.append, engine="auto")
    assert summary["engine"] == "keras"
    line = next(e for e in events if e.get("kind") == "engine")
    assert f"{copy.name} could not be read" in line["message"], line
    predict_paths(run, [image], tmp_path / "keras", engine="keras")
    np.testing.assert_array_equal(_labels(tmp_path / "out"), _labels(tmp_path / "keras"))
    source = open_model_source(run, engine="auto")
    assert source.onnx_copy == DAMAGED
    assert refresh_after_keras(source).status == FRESH  # rewritten from the Keras model
    assert open_model_source(run, engine="auto").engine == "onnx"


def test_engine_onnx_without_a_copy_says_how_to_make_one(tmp_path):
    run = write_run(tmp_path / "run", branchy_threshold_model(), make_recipe("instance_segmentation"))
    image = write_tiff(tmp_path / "in" / "a.tif", disk_image(disk_labels()))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "builder.cli.main", "predict", str(run), str(image), "--out",
                           str(tmp_path / "out"), "--engine", "onnx"], capture_output=True, text=True, env=env,
                          timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    assert "Traceback" not in text
    assert "--engine onnx" in text and "no ONNX copy of best.keras" in text
    assert f"cellwright export {run} --format onnx" in text and "--engine auto" in text
    assert not (tmp_path / "out").exists()
    assert open_model_source(run, engine="auto").onnx_copy == MISSING


def area_resizing_classifier():
    """A classifier whose 'area' resizing the ONNX converter translates wrongly (its copy differs from Keras)."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 16, 1))
    x = keras.layers.Resizing(8, 8, interpolation="area")(inp)
    x = keras.layers.Conv2D(2, 3, activation="tanh")(x)
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x))
    return keras.Model(inp, out)


def test_a_network_without_a_faithful_copy_is_said_once_and_predicted_with_keras(tmp_path):
    model = area_resizing_classifier()
    run = write_run(tmp_path / "run", model, make_recipe("classification", classes=["dim", "bright"]))
    said: list[dict] = []
    state = ensure_copy(run, model, events=said.append)
    assert state.status == "impossible" and "differs from the Keras model" in state.reason
    assert [e["event"] for e in said] == ["warning"] and "No ONNX copy" in said[0]["what"]
    folder = RunFolder(run)
    assert not folder.file(files.ONNX_COPY).exists() and folder.file(files.ONNX_COPY_NOTE).is_file()

    again: list[dict] = []
    assert ensure_copy(run, model, events=again.append).status == "impossible" and again == []  # said once
    paths = _write_images(tmp_path / "in", {"a": np.full((16, 16), 900, np.uint16)})
    events: list[dict] = []
    summary = predict_paths(run, paths, tmp_path / "out", events=events.append)
    assert summary["engine"] == "keras" and summary["n_images"] == 1
    line = next(e for e in events if e.get("kind") == "engine")
    assert "cannot be converted to ONNX" in line["message"]
    assert refresh_after_keras(open_model_source(run, engine="auto")) is None  # no retry after a prediction


def test_another_checkpoint_given_by_hand_uses_keras_and_keeps_the_copy_of_the_best(tmp_path):
    best = branchy_threshold_model(seed=0)
    run = write_run(tmp_path / "run", best, make_recipe("instance_segmentation"))
    assert ensure_copy(run, best).status == FRESH
    last = RunFolder(run).last_checkpoint
    branchy_threshold_model(seed=3).save(last)
    source = open_model_source(last, engine="auto")
    assert source.engine == "keras" and "a copy of best.keras, not of last.keras" in source.engine_reason
    assert refresh_after_keras(source) is None
    assert open_model_source(run, engine="auto").engine == "onnx"


def _scaled_model(scale: float):
    """A small convolutional network whose output is ``scale`` times a tanh (e.g. ray lengths in pixels)."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")(inp)
    return keras.Model(inp, keras.layers.Rescaling(scale)(keras.layers.Conv2D(2, 1, activation="tanh")(x)))


def test_copy_tolerance_grows_with_the_size_of_the_outputs():
    from builder.model_files.defaults import DEFAULT_TOLERANCE
    from builder.workflow.onnx_cache import copy_tolerance

    x = np.random.default_rng(0).normal(0, 1, (1, 32, 32, 1)).astype(np.float32)
    assert copy_tolerance(_scaled_model(1.0), x) == DEFAULT_TOLERANCE  # probabilities: as exports
    largest = float(np.abs(np.asarray(_scaled_model(250.0)(x))).max())
    assert largest > 100
    assert copy_tolerance(_scaled_model(250.0), x) == pytest.approx(DEFAULT_TOLERANCE * largest)


def test_a_note_from_another_record_version_is_tried_again(tmp_path):
    from builder.workflow.onnx_cache import IMPOSSIBLE, fingerprint
    from builder.workflow.onnx_network import RECORD_VERSION

    model = branchy_threshold_model(seed=0)
    run = write_run(tmp_path / "run", model, make_recipe("instance_segmentation"))
    folder = RunFolder(run)
    checkpoint = folder.model_checkpoint()
    note = {"checkpoint": fingerprint(checkpoint), "reason": "differs by up to 0.00016 (allowed: 0.0001)"}
    folder.write_json(files.ONNX_COPY_NOTE, {**note, "version": RECORD_VERSION})
    assert ensure_copy(run, model).status == IMPOSSIBLE  # this version's note: not tried again
    folder.write_json(files.ONNX_COPY_NOTE, note)  # written by an older Cellwright
    assert ensure_copy(run, model).status == FRESH
    assert not folder.file(files.ONNX_COPY_NOTE).exists()
    assert open_model_source(run, engine="auto").engine == "onnx"


def test_a_copy_from_an_older_record_version_is_stale_and_made_again(tmp_path):
    """Version 1 copies of grid networks held the final repeat; a version 2 reader must not take one for a copy
    that leaves it out, nor the other way round."""
    import json as json_module

    from builder.export.onnx import write_onnx
    from builder.workflow.onnx_cache import _test_input, open_copy, prediction_record
    from builder.workflow.onnx_network import RECORD_KEY, RECORD_VERSION

    model = branchy_threshold_model(seed=0)
    recipe = make_recipe("instance_segmentation")
    run = write_run(tmp_path / "run", model, recipe)
    folder = RunFolder(run)
    checkpoint = folder.model_checkpoint()
    old = {**prediction_record(model, recipe, checkpoint), "version": 1}
    write_onnx(model, folder.file(files.ONNX_COPY), test_input=_test_input(model, recipe),
               properties={RECORD_KEY: json_module.dumps(old)})
    state = open_copy(run, checkpoint, recipe)
    assert state.status == STALE and "another version of Cellwright (record version 1, now 2)" in state.reason
    assert ensure_copy(run, model).status == FRESH
    assert open_copy(run, checkpoint, recipe).network.record["version"] == RECORD_VERSION == 2

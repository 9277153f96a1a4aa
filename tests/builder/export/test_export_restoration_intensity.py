"""Restoration packages for the BioImage Model Zoo give restored images at the target's brightness.

A consumer (bioimageio.core, deepImageJ, ilastik) runs the package's declared preprocessing, the weights and the
declared postprocessing. Here the ONNX weights run in onnxruntime and the declared steps are applied as the spec
defines them (written out below, not Cellwright's code); the result must be Cellwright's own ``predict`` output
in intensities (``restored_intensity``) for a new raw image, for both ways training records the output scale.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from builder.cli.main import main

TASK = "image_to_image"


def _spec_step(step: dict, x: np.ndarray) -> np.ndarray:
    """One bioimage.io 0.5 processing step on a B,Y,X,C array, as the spec defines it."""
    kw = step.get("kwargs") or {}
    if step["id"] == "ensure_dtype":
        return x.astype(kw["dtype"])
    if step["id"] == "scale_linear":  # out = gain * x + offset, per channel when an axis is given
        return x * np.asarray(kw.get("gain", 1.0), np.float32) + np.asarray(kw.get("offset", 0.0), np.float32)
    if step["id"] == "scale_range":  # (x - p_low) / (p_high - p_low + eps), percentiles over the given axes
        index = {"batch": 0, "y": 1, "x": 2, "channel": 3}
        axes = tuple(index[a] for a in kw["axes"])
        lo = np.percentile(x, kw["min_percentile"], axis=axes, keepdims=True)
        hi = np.percentile(x, kw["max_percentile"], axis=axes, keepdims=True)
        return ((x - lo) / (hi - lo + kw.get("eps", 1e-6))).astype(np.float32)
    raise AssertionError(f"step {step['id']} is not expected in a restoration package")


def _consumer_output(package: Path, raw: np.ndarray, folder: Path) -> np.ndarray:
    """What a consumer gets from the package's ONNX weights for ``raw`` (B,Y,X,C)."""
    import onnxruntime

    with zipfile.ZipFile(package) as archive:
        archive.extractall(folder)
    rdf = yaml.safe_load((folder / "rdf.yaml").read_text())
    x = raw
    for step in rdf["inputs"][0].get("preprocessing") or []:
        x = _spec_step(step, x)
    session = onnxruntime.InferenceSession(str(folder / rdf["weights"]["onnx"]["source"]),
                                           providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})
    for step in rdf["outputs"][0].get("postprocessing") or []:
        y = _spec_step(step, y)
    return y


def _network():
    """A tiny restoration network whose output is not its input's scale (a bias and a gain)."""
    import keras

    keras.utils.set_random_seed(11)
    inp = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    out = keras.layers.Conv2D(1, 3, padding="same", bias_initializer=keras.initializers.Constant(0.2))(x)
    return keras.Model(inp, out, name="tiny_restore")


def _raw(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """A noisy fluorescence-like image (Y, X, 1), camera counts."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    clean = 300 + 2500 * (np.sin(yy / 4.0) * np.cos(xx / 6.0) > 0.3)
    return rng.poisson(clean)[..., None].astype(np.float32)


#: ``evaluate.postprocess`` keys every recipe has; they mean nothing for a restored image.
SEGMENTATION_SETTINGS = {"threshold": 0.5, "seed_threshold": 0.5, "min_size": 10}

#: Input statistics of the training set, for the case whose input is normalised per dataset.
DATASET = {"offset": [150.0], "scale": [2600.0]}


def _cellwright_predict(model, image: np.ndarray, per: str, intensity: dict) -> np.ndarray:
    """Cellwright's own predict output in intensities for one raw image."""
    from builder.recipe import recipe_from_dict
    from builder.tasks import get_task
    from builder.workflow.inference import predict_image

    recipe = recipe_from_dict({"name": "tiny", "task": TASK, "data": get_task(TASK).new_recipe_data("."),
                               "preprocess": {"normalize": {"method": "percentile", "low": 1.0, "high": 99.8,
                                                            "per": per}}})
    stats = DATASET if per == "dataset" else None
    result = predict_image(model, image, recipe, norm_stats={"normalize": stats, "target_normalize": None,
                                                             "target_from_input": None, **intensity})
    return result["restored_intensity"]


def _export(tmp_path: Path, model, per: str, intensity: dict) -> Path:
    from builder.export.bioimageio import write_bioimageio
    from builder.export.metadata import ExportMetadata, Normalization

    stats = {"min": DATASET["offset"], "max": [DATASET["offset"][0] + DATASET["scale"][0]]} if per == "dataset" \
        else {}
    metadata = ExportMetadata(name="tiny denoiser", task=TASK, channel_names=["GFP"],
                              normalization=Normalization(method="percentile", low=1.0, high=99.8, per=per, **stats),
                              output_intensity=intensity, raw_test_input=_raw(1, (32, 48))[None],
                              postprocess=SEGMENTATION_SETTINGS | {"tta": False},
                              recipe={"name": "tiny", "task": TASK})
    return write_bioimageio(model, metadata, tmp_path / "denoiser.zip").path


@pytest.mark.parametrize(("per", "intensity"), [
    ("image", {"target_from_input": {"offset": [0.08], "scale": [0.62]}}),  # per-image percentiles (the examples)
    ("image", {"target_normalize": {"offset": [210.0], "scale": [1900.0]}}),  # the targets' dataset statistics
    ("dataset", {"target_from_input": {"offset": [0.03], "scale": [0.71]}}),  # inputs per dataset, targets per image
], ids=["target_from_input", "target_normalize", "dataset_input_target_from_input"])
def test_consumer_gets_cellwright_predict_intensities(tmp_path, per, intensity):
    model = _network()
    package = _export(tmp_path, model, per, intensity)
    image = _raw(5, (40, 56))  # not the test input, another size
    expected = _cellwright_predict(model, image, per, intensity)
    got = _consumer_output(package, image[None], tmp_path / "unpacked")[0]
    span = float(expected.max() - expected.min())
    assert span > 100  # intensities, not the normalised scale
    assert np.abs(got - expected).max() < 1e-4 * span

    with zipfile.ZipFile(package) as archive:  # the stored test output is what a consumer should get
        test_in, test_out = (np.load(archive.open(n)) for n in ("test_input.npy", "test_output.npy"))
        card = archive.read("README.md").decode()
        rdf = yaml.safe_load(archive.read("rdf.yaml"))
    assert "Output intensities" in card and "Intensities" in rdf["outputs"][0]["description"]  # says what it is
    assert "Post-processing (Cellwright): test-time augmentation off" in card  # not thresholds for masks
    assert not any(key in card for key in SEGMENTATION_SETTINGS)
    assert np.abs(test_out[0] - _cellwright_predict(model, test_in[0], per, intensity)).max() < 1e-4 * span

    tifffile.imwrite(tmp_path / "new.tif", image[..., 0].astype(np.uint16))  # and Cellwright reads it back alike
    assert main(["predict", str(package), str(tmp_path / "new.tif"), "--out", str(tmp_path / "pred")]) == 0
    restored = tifffile.imread(tmp_path / "pred" / "new_restored.tif")
    assert np.abs(np.squeeze(restored) - expected[..., 0]).max() < 1e-4 * span


def test_a_mask_model_card_lists_its_thresholds():
    from builder.export.bioimageio import _postprocess_text
    from builder.export.metadata import ExportMetadata

    metadata = ExportMetadata(name="tiny", task="segmentation", postprocess=SEGMENTATION_SETTINGS)
    assert _postprocess_text(metadata) == "threshold 0.5, seed_threshold 0.5, min_size 10"

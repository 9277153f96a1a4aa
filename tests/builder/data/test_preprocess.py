"""Training and prediction see the same network input for the same TIFF file (no train/serve skew)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from builder.data.layouts import discover
from builder.data.patches import grid_patches
from builder.data.preprocess import read_input, to_network_grid
from builder.workflow.inference import prepare, to_norm_stats
from tests.builder.data.data_helpers import make_recipe

NORMALISATIONS = [
    {"method": "percentile", "low": 2.0, "high": 99.0},
    {"method": "percentile", "per": "dataset"},
    {"method": "zscore", "per": "dataset", "per_channel": False},
    {"method": "minmax", "clip": True},
    {"method": "fixed", "fixed_min": 100.0, "fixed_max": 3000.0},
]


def _tiff(path: Path, seed: int, shape: tuple[int, int]) -> Path:
    """A two-channel uint16 TIFF, channels first (as microscopes save them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, np.random.default_rng(seed).integers(80, 4000, size=(2, *shape)).astype(np.uint16))
    return path


def _write(root: Path, split: str, name: str, seed: int, shape: tuple[int, int]) -> Path:
    """``SPLIT/images/NAME.tif`` and a uint16 label mask ``SPLIT/masks/NAME.tif``."""
    mask = np.zeros(shape, np.uint16)
    mask[5:15, 6:18] = 1
    (root / split / "masks").mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(root / split / "masks" / f"{name}.tif", mask)
    return _tiff(root / split / "images" / f"{name}.tif", seed, shape)


def _recipe(root: Path, normalize: dict, resample_to: float | None, task: str = "segmentation"):
    data = {"root": str(root), "masks": "masks", "pixel_size": 0.5, "channels": ["1", "0"],
            "split": {"mode": "folders"}}
    pre = {"normalize": normalize, "resample_to": resample_to, "patch": {"size": 16, "per_image": 1}}
    if task == "classification":
        data = {"root": str(root), "layout": "class_folders", "pixel_size": 0.5, "channels": ["1", "0"],
                "split": {"mode": "folders"}}
        pre["image_size"] = 16
    return make_recipe(task, data=data, preprocess=pre, augment={"flip": False, "rotate90": False})


def _validation_inputs(recipe, root: Path) -> tuple[np.ndarray, dict]:
    from builder.data.pipeline import make_training_datasets

    _, val_ds, info = make_training_datasets(recipe, discover(recipe, root), batch_size=64)
    return np.concatenate([x.numpy() for x, _ in val_ds]), info


@pytest.mark.parametrize("resample_to", [None, 0.8])
@pytest.mark.parametrize("normalize", NORMALISATIONS, ids=lambda n: "-".join(str(v) for v in n.values()))
def test_training_and_prediction_inputs_are_identical(tmp_path: Path, normalize: dict, resample_to: float | None):
    for i in range(3):
        _write(tmp_path, "train", f"t{i}", seed=i, shape=(40, 36))
    path = _write(tmp_path, "validation", "v0", seed=9, shape=(40, 36))
    recipe = _recipe(tmp_path, normalize, resample_to)
    trained_on, info = _validation_inputs(recipe, tmp_path)

    image = read_input(path, recipe.data)
    x, _ = prepare(image.array, recipe, stats=to_norm_stats(info["normalize"]),
                   pixel_size=image.pixel_size or recipe.data.pixel_size)
    expected_shape = (40, 36) if resample_to is None else (25, 22)
    assert x.shape == (*expected_shape, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(grid_patches(x, 16), trained_on)


@pytest.mark.parametrize("resample_to", [None, 0.8])
def test_classifier_inputs_are_identical(tmp_path: Path, resample_to: float | None):
    import keras

    for i, cls in enumerate(("a", "b")):
        _tiff(tmp_path / "train" / cls / f"t{i}.tif", seed=i, shape=(30, 26))
    path = _tiff(tmp_path / "validation" / "b" / "v.tif", seed=10, shape=(30, 26))
    recipe = _recipe(tmp_path, {"method": "percentile", "low": 1.0, "high": 99.0}, resample_to, "classification")
    trained_on, info = _validation_inputs(recipe, tmp_path)
    inputs = keras.Input((16, 16, 2))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))

    image = read_input(path, recipe.data)
    x, _ = prepare(image.array, recipe, model=model, stats=to_norm_stats(info["normalize"]),
                   pixel_size=image.pixel_size or recipe.data.pixel_size)
    assert x.shape == (16, 16, 2)
    np.testing.assert_array_equal(x[None], trained_on)


def test_masks_keep_labels_when_resampled():
    recipe = make_recipe("segmentation", preprocess={"resample_to": 1.0})
    mask = np.zeros((20, 20, 1), np.int32)
    mask[4:12, 4:12] = 7
    out = to_network_grid(mask, recipe.preprocess, pixel_size=0.5, order=0)
    assert out.shape == (10, 10, 1) and out.dtype == np.int32 and set(np.unique(out)) == {0, 7}

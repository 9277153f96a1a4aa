"""Blind spots replaced by the median of the neighbours without the centre (N2V2), in numpy, TensorFlow and a recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from builder.errors import CellwrightError, DataError
from builder.recipe.load import load_recipe
from builder.tasks.image_to_image import make_n2v_map_fn, n2v_manipulate, split_n2v_target

EXAMPLE = Path(__file__).resolve().parents[3] / "recipes" / "examples" / "denoise_n2v.yaml"


def _expected_medians(patch: np.ndarray, mask: np.ndarray, radius: int) -> dict[tuple[int, int], np.ndarray]:
    """Median of the (2r+1)^2 - 1 neighbours of each masked pixel, mirrored at the edges, written out by loops."""
    h, w, _ = patch.shape
    out = {}
    for y, x in zip(*np.nonzero(mask[..., 0]), strict=True):
        values = []
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                if dy == 0 and dx == 0:
                    continue
                ny = y + dy if 0 <= y + dy < h else y - dy
                nx = x + dx if 0 <= x + dx < w else x - dx
                values.append(patch[ny, nx])
        out[(int(y), int(x))] = np.median(np.stack(values), axis=0)
    return out


def _check_medians(patch: np.ndarray, manipulated: np.ndarray, mask: np.ndarray, radius: int) -> None:
    assert np.array_equal(manipulated[mask == 0], patch[mask == 0])
    expected = _expected_medians(patch, mask, radius)
    assert expected
    for (y, x), value in expected.items():
        np.testing.assert_allclose(manipulated[y, x], value, rtol=1e-6)
        assert not np.array_equal(manipulated[y, x], patch[y, x])


def test_numpy_median_replacement_leaves_the_centre_out():
    patch = np.random.default_rng(0).random((32, 24, 2)).astype(np.float32)
    manipulated, mask = n2v_manipulate(patch, fraction=0.05, radius=2, rng=3, replacement="median")
    _check_medians(patch, manipulated, mask, 2)
    with pytest.raises(DataError, match="replacement"):
        n2v_manipulate(patch, replacement="mean")


def test_tensorflow_median_replacement_matches_the_definition_and_picks_the_same_pixels():
    tf = pytest.importorskip("tensorflow")
    patches = np.random.default_rng(4).random((3, 20, 28, 1)).astype(np.float32)
    median = make_n2v_map_fn(fraction=0.05, radius=2, seed=9, replacement="median")
    neighbour = make_n2v_map_fn(fraction=0.05, radius=2, seed=9)
    for i, patch in enumerate(patches):
        index = tf.constant(i, tf.int64)
        manipulated, target = (a.numpy() for a in median(patch, index))
        original, mask = split_n2v_target(target)
        assert np.array_equal(original, patch)
        _check_medians(patch, manipulated, mask, 2)
        assert np.array_equal(split_n2v_target(neighbour(patch, index)[1].numpy())[1], mask)


def test_recipe_blind_spot_settings_reach_the_training_masks(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from builder.workflow.fit_job import _n2v

    recipe_file = tmp_path / "r.yaml"
    data = yaml.safe_load(EXAMPLE.read_text())
    data["train"]["blind_spot"] = {"replacement": "median", "fraction": 0.05, "radius": 1}
    data["model"]["params"]["residual"] = False
    recipe_file.write_text(yaml.safe_dump(data))
    spots = load_recipe(recipe_file).train.blind_spot
    patches = np.random.default_rng(5).random((2, 16, 16, 1)).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((patches, patches)).batch(2)
    (manipulated, target), = list(_n2v(ds, 2, 42, spots, validation=False).as_numpy_iterator())
    for patch, m, t in zip(patches, manipulated, target, strict=True):
        mask = split_n2v_target(t)[1]
        assert mask.sum() == round(0.05 * 256)
        _check_medians(patch, m, mask, 1)
    data["train"]["blind_spot"] = {"replacement": "average"}
    recipe_file.write_text(yaml.safe_dump(data))
    with pytest.raises(CellwrightError, match="blind_spot"):
        load_recipe(recipe_file)


def test_median_blind_spots_with_a_residual_output_are_refused(tmp_path):
    from builder.recipe import validate_file

    data = yaml.safe_load(EXAMPLE.read_text())
    data["train"]["blind_spot"] = {"replacement": "median"}
    data["model"]["params"].pop("residual", None)
    path = tmp_path / "median.yaml"
    path.write_text(yaml.safe_dump(data))
    _, problems = validate_file(path)
    errors = [p for p in problems if p.severity == "error"]
    assert [p.key for p in errors] == ["model.params.residual"], [p.format() for p in problems]
    assert "residual: false" in errors[0].fix
    data["model"]["params"]["residual"] = False
    path.write_text(yaml.safe_dump(data))
    _, problems = validate_file(path)
    assert not [p for p in problems if p.severity == "error"], [p.format() for p in problems]
    data["train"]["blind_spot"] = {"replacement": "neighbour"}
    data["model"]["params"]["residual"] = True
    path.write_text(yaml.safe_dump(data))
    assert not [p for p in validate_file(path)[1] if p.severity == "error"]

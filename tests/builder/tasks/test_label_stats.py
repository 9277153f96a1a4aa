"""The whole-image object statistics equal scikit-image's regionprops on constructed ellipses and on real nuclei
(DSB2018 mask)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from skimage.measure import regionprops_table

from builder.tasks.label_stats import label_table
from builder.tasks.measure import measure_objects

MASK = Path(__file__).resolve().parents[4] / "shared" / "realdata" / "dsb2018_one_image" / "mask2d.tif"
PROPS = ("label", "area", "centroid", "bbox", "eccentricity", "axis_major_length", "axis_minor_length",
         "intensity_mean", "intensity_min", "intensity_max")


def _constructed_nuclei() -> np.ndarray:
    """Touching, tilted ellipses of many sizes on a 256 x 320 grid (runs where ../shared is absent)."""
    from skimage.draw import ellipse

    rng = np.random.default_rng(3)
    labels = np.zeros((256, 320), np.int32)
    for number in range(1, 121):
        cy, cx = rng.uniform(8, 248), rng.uniform(8, 312)
        rr, cc = ellipse(cy, cx, rng.uniform(2, 12), rng.uniform(2, 12), shape=labels.shape,
                         rotation=rng.uniform(-np.pi, np.pi))
        labels[rr, cc] = number  # later ellipses cover parts of earlier ones: odd, touching shapes
    return labels


@pytest.fixture(scope="module", params=["constructed", "real"])
def nuclei(request) -> tuple[np.ndarray, np.ndarray]:
    if request.param == "real":
        if not MASK.exists():
            pytest.skip(f"real data not found: {MASK}")
        labels = tifffile.imread(MASK).astype(np.int32)
    else:
        labels = _constructed_nuclei()
    labels[labels == labels.max()] = 0  # a gap in the label numbers
    labels[40:44, 300:303] = labels.max() + 5  # a tiny 4 x 3 object
    labels[100, 10:20] = labels.max() + 1  # a one-pixel-wide line: minor axis 0, eccentricity 1
    intensity = np.random.default_rng(0).normal(100, 30, (*labels.shape, 2))
    return labels, intensity


def test_label_table_equals_regionprops(nuclei):
    labels, intensity = nuclei
    ours = label_table(labels, intensity)
    theirs = regionprops_table(labels, intensity_image=intensity, properties=PROPS)
    assert list(ours) == list(theirs)
    assert len(ours["label"]) > 100
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9, atol=1e-9, err_msg=key)


def test_measure_objects_columns_and_values_unchanged_with_shape(nuclei):
    labels, intensity = nuclei
    rows = measure_objects(labels, intensity, channel_names=["a", "b"], pixel_size=0.5, shape=True)
    ref = regionprops_table(labels, intensity_image=intensity,
                            properties=("label", "solidity", "perimeter", "eccentricity", "axis_major_length"))
    assert list(rows[0])[:12] == ["label", "area", "centroid_y", "centroid_x", "bbox_min_y", "bbox_min_x",
                                  "bbox_max_y", "bbox_max_x", "eccentricity", "solidity", "perimeter",
                                  "major_axis_length"]
    assert [r["label"] for r in rows] == list(ref["label"])
    np.testing.assert_allclose([r["solidity"] for r in rows], ref["solidity"])
    np.testing.assert_allclose([r["perimeter_um"] for r in rows], ref["perimeter"] * 0.5)
    np.testing.assert_allclose([r["major_axis_length"] for r in rows], ref["axis_major_length"], rtol=1e-9)
    assert "solidity" not in measure_objects(labels, shape=False)[0]


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_label_table_on_raw_intensity_dtypes(nuclei, dtype):
    """measure_objects hands the image over in its own dtype: read as float64 pixel by pixel, same numbers."""
    labels, intensity = nuclei
    raw = np.clip(intensity * 40, 0, 65535).astype(dtype)
    ours = label_table(labels, raw)
    theirs = regionprops_table(labels, intensity_image=raw.astype(np.float64), properties=PROPS)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9, atol=1e-9, err_msg=key)


def test_label_table_large_numbers_negative_and_empty():
    """Labels above 65535 (no 16-bit sort), negative labels (background), one image-sized object, no objects."""
    labels = _constructed_nuclei()
    labels[labels > 0] += 70_000
    labels[:5] = -3
    intensity = np.random.default_rng(5).normal(100, 30, (*labels.shape, 1))
    ours = label_table(labels, intensity)
    theirs = regionprops_table(np.where(labels > 0, labels, 0), intensity_image=intensity, properties=PROPS)
    assert ours["label"].min() > 70_000
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9, atol=1e-9, err_msg=key)
    whole = np.ones((37, 41), np.int32)
    bands = np.repeat([1, 2, 2, 5], [9, 10, 8, 10])[:, None] * np.ones((1, 41), np.int32)  # already label-sorted
    bands[30:, :7] = 0
    for image in (whole, bands):
        theirs = regionprops_table(image, intensity_image=intensity[:37, :41], properties=PROPS)
        for key, values in label_table(image, intensity[:37, :41]).items():
            np.testing.assert_allclose(values, theirs[key], rtol=1e-9, atol=1e-9, err_msg=key)
    empty = label_table(np.zeros((9, 8), np.int32), intensity[:9, :8])
    assert all(len(v) == 0 for v in empty.values()) and "intensity_max-0" in empty

"""The denoising benchmark's noise model and position split do what its docstring says (fast, tiny arrays)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.benchmarks.realdata_denoising import (
    CTC,
    DSB,
    clean_images,
    estimate_sigma,
    expected_photons,
    poisson_gaussian,
    region_windows,
    write_data,
)


def test_mean_and_variance_of_noisy_draws_match_poisson_plus_read_noise():
    rng = np.random.default_rng(0)
    expected = np.linspace(0.0, 40.0, 64, dtype=np.float32).reshape(8, 8)
    draws = np.stack([poisson_gaussian(expected, 2.0, rng) for _ in range(4000)])
    assert draws.dtype == np.float32 and draws.shape == (4000, 8, 8)
    standard_error = np.sqrt((expected + 4.0) / len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - expected) < 5 * standard_error)  # mean of draws -> clean image
    np.testing.assert_allclose(draws.var(axis=0), expected + 4.0, rtol=0.15)  # shot noise + read noise^2
    assert not np.array_equal(draws[0], draws[1])  # independent draws


def test_expected_photons_maps_percentiles_to_background_and_peak():
    image = np.arange(10_000, dtype=np.uint16).reshape(100, 100) + 500  # a camera offset of 500
    photons = expected_photons(image, peak=30.0, background=2.0)
    lo, hi = np.percentile(photons, (0.5, 99.9))
    assert lo == pytest.approx(2.0, abs=1e-3) and hi == pytest.approx(32.0, abs=1e-3)
    assert photons.min() == pytest.approx(2.0)  # below the 0.5th percentile: background, not negative light
    with pytest.raises(ValueError, match="constant"):
        expected_photons(np.full((4, 4), 7), peak=30.0, background=2.0)


@pytest.mark.parametrize("width", [512, 628, 100, 40])
def test_regions_cover_the_width_once_left_to_right(width):
    bands = region_windows(width)
    assert list(bands) == ["train", "validation", "test"]
    covered = np.zeros(width, int)
    for band in bands.values():
        assert band.stop - band.start >= 8
        covered[band] += 1
    assert np.all(covered == 1)  # every column in exactly one band: no overlap, nothing left out
    assert bands["train"].stop == bands["validation"].start and bands["validation"].stop == bands["test"].start
    if width >= 500:
        assert abs(bands["test"].stop - bands["test"].start - 0.25 * width) <= 8


def test_estimated_sigma_of_gaussian_noise():
    rng = np.random.default_rng(1)
    smooth = np.add.outer(np.linspace(0, 50, 128), np.linspace(0, 30, 96))
    assert estimate_sigma(smooth + rng.normal(0, 3.0, smooth.shape)) == pytest.approx(3.0, rel=0.05)


@pytest.mark.skipif(not DSB.is_file() or not CTC.is_dir(), reason="../shared/realdata is not present")
def test_written_bands_come_from_disjoint_positions_of_the_real_images(tmp_path):
    counts = write_data(tmp_path, peak=30.0, read_noise=2.0, background=2.0, quick=True)
    assert counts == {"train": 4, "validation": 2, "test": 2}  # 2 images x quick draws (2, 1, 1)
    clean = expected_photons(clean_images(quick=True)["dsb"], peak=30.0, background=2.0)
    bands = region_windows(clean.shape[1])
    for split, window in bands.items():
        names = sorted(p.name for p in (tmp_path / "paired" / split / "targets").glob("dsb_d*.tif"))
        assert names and all((tmp_path / "noisy" / split / "images" / n).is_file() for n in names)
        for name in names:
            np.testing.assert_array_equal(tifffile.imread(tmp_path / "paired" / split / "targets" / name),
                                          clean[:, window])
    assert not (tmp_path / "noisy" / "train" / "targets").exists()  # self-supervised data: no clean images
    first = tifffile.imread(tmp_path / "paired" / "train" / "images" / "dsb_d0.tif")
    second = tifffile.imread(tmp_path / "paired" / "train" / "images" / "dsb_d1.tif")
    assert first.shape == second.shape and not np.array_equal(first, second)  # several draws per clean image

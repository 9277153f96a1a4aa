"""The separable linear resize equals scikit-image's ``resize(order=1)`` (the code path it replaced) on odd sizes,
one and many channels, shrinking and enlarging, with and without anti-aliasing, and on a real nuclei image (DSB2018;
a constructed image where ../shared is absent); instance labels made from its output equal those made from
scikit-image's."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import resize

from builder.data.linear_resize import axis_weights, linear_resize
from builder.data.normalize import resample
from builder.data.preprocess import resize_yx
from tests.builder.data.nuclei_like import nuclei_image, three_class_output


def _skimage(image: np.ndarray, shape: tuple[int, int], anti_aliasing: bool = True) -> np.ndarray:
    """What Cellwright called before: scikit-image's resize in float32."""
    return resize(image.astype(np.float32), (*shape, *image.shape[2:]), order=1, mode="reflect",
                  preserve_range=True, anti_aliasing=anti_aliasing).astype(np.float32)


CASES = [((7, 5), (13, 11)), ((13, 11), (7, 5)), ((1, 9), (4, 3)), ((9, 1), (2, 5)), ((3, 3), (1, 1)),
         ((31, 17, 3), (10, 40)), ((5, 6, 1), (5, 13)), ((64, 64, 4), (64, 30)), ((101, 77, 2), (163, 121)),
         ((163, 121, 5), (101, 77)), ((50, 40, 3), (79, 23)), ((23, 9, 2), (4, 2)), ((40, 7), (3, 1))]


@pytest.mark.parametrize("anti_aliasing", [True, False])
@pytest.mark.parametrize(("shape", "out"), CASES)
def test_equals_skimage_resize(shape, out, anti_aliasing):
    image = np.random.default_rng(sum(shape)).random(shape).astype(np.float32)
    ours = linear_resize(image, out, anti_aliasing=anti_aliasing)
    theirs = _skimage(image, out, anti_aliasing)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


def test_input_untouched_and_same_size_is_a_copy():
    image = np.random.default_rng(0).random((9, 8, 2)).astype(np.float32)
    before = image.copy()
    same = linear_resize(image, (9, 8))
    same[0, 0, 0] = -1
    linear_resize(image, (4, 17))
    np.testing.assert_array_equal(image, before)


def test_axis_weights_mirror_at_pixel_centres():
    lo, hi, w = axis_weights(4, 8)  # coordinates -0.25, 0.25, ..., 3.25 -> mirrored 0.25 ... 2.75
    np.testing.assert_allclose(lo + w, [0.25, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 2.75])
    assert hi.max() == 3 and lo.min() == 0
    with pytest.raises(ValueError, match="n_out=0"):
        axis_weights(3, 0)


@pytest.mark.parametrize("factor", [15 / 23.7, 0.5, 1.37])
def test_resample_real_image_equals_skimage(factor):
    """``preprocess`` downscales the raw image (anti-aliased) before normalisation: equal to 1e-6 of its range."""
    image = nuclei_image()[..., None]
    ours = resample(image, factor, 1.0, order=1)
    shape = (max(1, round(image.shape[0] * factor)), max(1, round(image.shape[1] * factor)), 1)
    theirs = resize(image, shape, order=1, preserve_range=True, anti_aliasing=factor < 1, mode="reflect")
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    span = float(image.max() - image.min())
    assert np.abs(ours - theirs).max() <= 1e-6 * span


def test_labels_from_upsampled_output_equal_skimage_path():
    """The network output at object scale, brought back to full size: the same instance labels either way."""
    from builder.tasks.instances import instances_from_three_class

    full = nuclei_image().shape
    small = three_class_output((round(full[0] * 15 / 23.7), round(full[1] * 15 / 23.7)))
    ours = resize_yx(small, full, order=1)
    theirs = _skimage(small, full)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
    labels = instances_from_three_class(ours, seed_threshold=0.5, threshold=0.5, min_size=10)
    assert labels.max() > 20
    np.testing.assert_array_equal(labels, instances_from_three_class(theirs, seed_threshold=0.5, threshold=0.5,
                                                                      min_size=10))

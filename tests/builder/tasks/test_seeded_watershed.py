"""The seeded watershed that floods only regions with several seeds gives the labels of the whole-image watershed it
replaced, on nuclei-like network outputs (DSB2018 when present, else constructed) and on random maps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from builder.tasks.instances import instances_from_distance, instances_from_three_class
from builder.tasks.seeded_watershed import seeded_watershed
from tests.builder.data.nuclei_like import nuclei_image, three_class_output


def _whole_image(height: np.ndarray, seed_map: np.ndarray, foreground: np.ndarray, min_size: int) -> np.ndarray:
    """The previous post-processing: one watershed over the whole foreground, then orphans, min_size, renumber."""
    from skimage.segmentation import relabel_sequential, watershed

    seeds, n = ndi.label(seed_map & foreground)
    labels = watershed(-height, seeds, mask=foreground) if n else np.zeros(foreground.shape, np.int64)
    orphans, n_orphans = ndi.label(foreground & (labels == 0))
    if n_orphans:
        labels = np.where(orphans > 0, orphans + labels.max(), labels)
    if min_size > 0 and labels.max() > 0:
        sizes = np.bincount(labels.ravel())
        small = sizes < min_size
        small[0] = False
        labels[small[labels]] = 0
    return relabel_sequential(labels.astype(np.int32))[0]


@pytest.mark.parametrize(("seed_threshold", "threshold", "min_size"), [(0.5, 0.5, 10), (0.3, 0.2, 0), (0.8, 0.6, 40)])
def test_three_class_output_equals_whole_image_watershed(seed_threshold, threshold, min_size):
    prob = three_class_output(nuclei_image().shape)
    interior = prob[..., 2]
    foreground = prob[..., 1] + prob[..., 2] > threshold
    ours = instances_from_three_class(prob, seed_threshold=seed_threshold, threshold=threshold, min_size=min_size)
    theirs = _whole_image(interior, interior > seed_threshold, foreground, min_size)
    assert ours.dtype == np.int32 and theirs.max() > 20
    np.testing.assert_array_equal(ours, theirs)


def test_distance_output_equals_whole_image_watershed():
    prob = three_class_output(nuclei_image().shape)
    inner = ndi.distance_transform_edt(prob[..., 2] > 0.5)
    pred = np.stack([inner / max(inner.max(), 1), prob[..., 1] + prob[..., 2]], axis=-1).astype(np.float32)
    ours = instances_from_distance(pred, seed_threshold=0.3, threshold=0.5, min_size=5)
    smooth = ndi.gaussian_filter(pred[..., 0], 1.0)
    np.testing.assert_array_equal(ours, _whole_image(smooth, smooth > 0.3, pred[..., 1] > 0.5, 5))


@pytest.mark.parametrize("seed", range(4))
def test_random_maps_with_many_seeds_per_region(seed):
    """Blurred noise: large foreground regions with many seeds, seedless regions and tiny objects."""
    rng = np.random.default_rng(seed)
    height = ndi.gaussian_filter(rng.random((97, 131)), 2.5).astype(np.float32)
    foreground = ndi.gaussian_filter(rng.random((97, 131)), 3) > 0.49
    ours = seeded_watershed(height, height > np.quantile(height, 0.7), foreground, 6)
    theirs = _whole_image(height, height > np.quantile(height, 0.7), foreground, 6)
    assert len(np.unique(theirs)) > 5
    np.testing.assert_array_equal(ours, theirs)


def test_no_seeds_no_foreground():
    height = np.zeros((20, 30), np.float32)
    foreground = np.zeros((20, 30), bool)
    foreground[2:5, 2:9] = foreground[10:18, 20:25] = True
    for fg in (foreground, np.zeros_like(foreground)):
        np.testing.assert_array_equal(seeded_watershed(height, np.zeros_like(fg), fg, 0),
                                      _whole_image(height, np.zeros_like(fg), fg, 0))
    assert seeded_watershed(height, np.zeros_like(foreground), foreground, 0).max() == 2

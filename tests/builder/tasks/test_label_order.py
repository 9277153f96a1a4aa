"""Proposal order, object numbering and polygon areas of star-convex post-processing: the same results as the
plain NumPy/scikit-image steps, with bounded memory for an output where every pixel proposes."""

from __future__ import annotations

import tracemalloc

import numpy as np
from skimage.segmentation import relabel_sequential

from builder.tasks.label_order import descending_order, keep_and_renumber
from builder.tasks.star_nms import large_proposals, nms_labels, polygon_areas


def test_descending_order_equals_a_stable_argsort_of_the_negated_values():
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(0.0, 1.0, 20_000), 2).astype(np.float32)  # many ties, negatives
    values[:50] = 0.0
    values[50:100] = -0.0
    values[100:110] = np.inf
    for v in (values, np.abs(values), values[:1], values[:0]):
        assert np.array_equal(descending_order(v), np.argsort(-v, kind="stable"))


def test_keep_and_renumber_equals_dropping_small_objects_then_relabel_sequential():
    rng = np.random.default_rng(4)
    labels = rng.choice([0, 3, 7, 8, 20, 41], size=(64, 80), p=[0.5, 0.2, 0.001, 0.1, 0.1, 0.099]).astype(np.int32)
    for min_size in (0, 1, 5, 400, 10_000):
        sizes = np.bincount(labels.ravel())
        expected = labels.copy()
        expected[(sizes < min_size)[labels] & (labels > 0)] = 0
        out = keep_and_renumber(labels, min_size)
        assert out.dtype == np.int32
        assert np.array_equal(out, relabel_sequential(expected)[0])
    assert not keep_and_renumber(np.zeros((4, 5), np.int32), 3).any()


def test_keep_and_renumber_with_the_sizes_given_equals_counting_them():
    """Star post-processing passes the pixel counts it drew: the same result, and a labelling with nothing to drop
    comes back as it is (no pass over the image)."""
    rng = np.random.default_rng(5)
    labels = rng.choice(np.arange(7), size=(40, 50), p=[0.4, 0.2, 0.001, 0.15, 0.149, 0.0, 0.1]).astype(np.int32)
    labels[0, 0] = 6
    sizes = np.bincount(labels.ravel(), minlength=7)[1:]
    assert sizes[4] == 0 and sizes[1] < 10 < sizes.max()  # label 5 owns no pixel, label 2 is small
    for min_size in (0, 1, 10, 10_000):
        assert np.array_equal(keep_and_renumber(labels, min_size, sizes=sizes), keep_and_renumber(labels, min_size))
    whole = np.where(labels == 5, 0, np.where(labels == 6, 5, labels)).astype(np.int32)
    assert keep_and_renumber(whole, 1, sizes=np.bincount(whole.ravel())[1:]) is whole


def test_large_proposals_equal_comparing_polygon_areas():
    rng = np.random.default_rng(5)
    dist = rng.uniform(-1.0, 9.0, (70, 90, 16)).astype(np.float32)
    dist[:10] = rng.uniform(0.0, 0.3, (10, 90, 16))  # polygons of under a pixel
    dist[10:20, :, :] = dist[10:20, :, :1]  # circles, one of which is exactly min_area below
    ys, xs = np.nonzero(rng.random((70, 90)) > 0.3)
    areas = polygon_areas(dist[ys, xs])
    for min_area in (0.0, 1.0, 3.0, float(areas[np.argmax(ys >= 10)]), float(np.median(areas)), 1e9):
        assert np.array_equal(large_proposals(dist, ys, xs, min_area), areas >= min_area)


def test_every_pixel_proposing_a_tiny_polygon_stays_within_a_fraction_of_the_output_in_memory():
    """An untrained network proposes at every pixel: the areas that rule those proposals out are bounded a chunk
    at a time (all at once, their float64 copies took several times the output's size)."""
    prob = np.full((512, 512), 0.9, np.float32)
    dist = np.full((512, 512, 32), 0.5, np.float32)  # polygons of under a pixel: none is proposed
    tracemalloc.start()
    try:
        labels, kept = nms_labels(prob, dist, threshold=0.5, min_area=3.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(kept) == 0 and not labels.any()
    assert peak < dist.nbytes / 2, f"{peak / 1e6:.0f} MB for a {dist.nbytes / 1e6:.0f} MB output"

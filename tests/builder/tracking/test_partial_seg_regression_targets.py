"""Cells marked but not outlined (-1 in the mask) count for neither the distance nor the star-convex target and
loss: not background, not object."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.partial_masks import IGNORE, ignore_unannotated
from builder.tasks.instances import NO_TARGET, distance_targets
from builder.tasks.star_convex import star_convex_target
from tests.builder.tracking.test_partial_seg import partial_frame


def _mask() -> np.ndarray:
    seg, markers = partial_frame()
    return ignore_unannotated(seg, markers)


@pytest.mark.parametrize("target_fn", [distance_targets, star_convex_target])
def test_unoutlined_cells_have_no_target(target_fn):
    mask = _mask()
    ignored = mask == IGNORE
    target = target_fn(mask[..., None])
    assert (target[ignored, 0] == NO_TARGET).all()
    assert (target[~ignored] >= 0).all()
    plain = target_fn(np.where(ignored, 0, mask)[..., None])  # the outlined cells are targeted as before
    np.testing.assert_array_equal(target[~ignored], plain[~ignored])


@pytest.mark.parametrize(("instance_target", "loss_name", "target_fn"), [
    ("distance", "mse", distance_targets), ("distance", "mae", distance_targets),
    ("star_convex", "star", star_convex_target)])
def test_the_loss_skips_unoutlined_cells(instance_target, loss_name, target_fn):
    pytest.importorskip("keras")
    from builder.tasks.losses import make_loss

    mask = _mask()
    ignored = mask == IGNORE
    target = target_fn(mask[..., None])[None].astype(np.float32)
    loss = make_loss("tracking", loss_name, instance_target=instance_target)
    rng = np.random.default_rng(0)
    pred = rng.uniform(0.05, 0.95, size=target.shape).astype(np.float32)
    other = pred.copy()
    other[0][ignored] = 0.99  # calls the unoutlined cell an object (or anything else): costs nothing
    assert float(loss(target, pred)) == pytest.approx(float(loss(target, other)), rel=1e-6)
    other[0][ignored] = 0.01  # ... or background
    assert float(loss(target, pred)) == pytest.approx(float(loss(target, other)), rel=1e-6)
    changed = pred.copy()
    changed[0, 16, 16, 0] = 0.0  # an outlined cell's centre called background: costs more
    assert float(loss(target, changed)) > float(loss(target, pred))


def test_the_distance_loss_is_the_mean_over_the_pixels_with_a_target():
    pytest.importorskip("keras")
    from builder.tasks.losses import make_loss

    mask = _mask()
    target = distance_targets(mask[..., None])[None]
    pred = np.random.default_rng(1).uniform(0, 1, size=target.shape).astype(np.float32)
    valid = target >= 0
    expected = float(np.mean(np.square(pred - target)[valid]))
    got = float(make_loss("tracking", "mse", instance_target="distance")(target, pred))
    assert got == pytest.approx(expected, rel=1e-5)

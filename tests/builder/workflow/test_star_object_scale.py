"""Star-convex prediction at object scale: the network output stays on its grid, polygons come out at the image's
size, and the probability TIFF holds the object probability. A real Keras model and real TIFF files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from builder.data.preprocess import resize_yx
from builder.data.readers import read_image
from builder.recipe import recipe_from_dict
from builder.tasks import get_task
from builder.tasks.base import WRITE_PROBABILITIES
from builder.tasks.metrics.instances import instance_metrics
from builder.tasks.star_convex import N_RAYS, star_convex_target
from builder.tasks.zoomed_output import ZoomedOutput
from builder.workflow.inference import network_output, predict_image, prepare
from tests.builder.tasks.test_star_grid_nms import DISKS, disks

keras = pytest.importorskip("keras")


def star_oracle(zoom: float):
    """A 1x1 convolution that passes a star target through, rays divided by ``zoom`` (image pixels -> grid
    pixels): fed the target of the full-size mask, it outputs what a perfect network at object scale would."""
    inp = keras.Input((None, None, 1 + N_RAYS))
    layer = keras.layers.Conv2D(1 + N_RAYS, 1, activation=None)
    out = layer(inp)
    layer.set_weights([np.diag([1.0] + [1.0 / zoom] * N_RAYS).astype(np.float32)[None, None],
                       np.zeros(1 + N_RAYS, np.float32)])
    return keras.Model(inp, out)


def _recipe():
    return recipe_from_dict({
        "name": "star", "task": "instance_segmentation",
        "data": {"root": ".", "masks": "masks", "split": {"mode": "folders"}},
        "preprocess": {"normalize": {"method": "none"}, "object_diameter": 20, "target_diameter": 10},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 4}},
        "train": {"instance_target": "star_convex"},
    })


def test_star_prediction_at_object_scale_suppresses_on_the_grid(tmp_path):
    truth = disks()
    raw = np.maximum(star_convex_target(truth), 0.0)  # the image the oracle reads (33 channels)
    recipe = _recipe()
    model = star_oracle(2.0)
    settings = {"threshold": 0.5, "nms_threshold": 0.4, "min_size": 10}
    result = predict_image(model, raw, recipe, postprocess=settings)
    output = result["output"]
    x, _ = prepare(raw, recipe)
    assert isinstance(output, ZoomedOutput) and x.shape[:2] == (50, 60)
    np.testing.assert_allclose(output.grid, network_output(model, x, recipe), atol=1e-5)
    assert output._full is None  # nothing was interpolated to full size
    labels = result["labels"]
    assert labels.shape == truth.shape and labels.max() == len(DISKS)
    assert instance_metrics(truth, labels, (0.7,))["by_threshold"]["0.7"]["f1"] == 1.0
    # the path before: every channel interpolated to full size (rays times the zoom), suppressed there
    full = resize_yx(output.grid, truth.shape, order=1)
    full[..., 1:] *= 2.0
    before = get_task("instance_segmentation").interpret(full, recipe, {**result["postprocess"]})["labels"]
    same = instance_metrics(before, labels, (0.5,))
    assert same["f1@0.5"] == 1.0 and same["mean_matched_iou"] > 0.95

    image = read_image(_write(tmp_path / "a.tif", truth.astype(np.uint16)))
    task = get_task("instance_segmentation")
    _, written, objects = task.write_prediction({**result, WRITE_PROBABILITIES: True}, image, "a", tmp_path,
                                                pixel_size=None, class_names=[])
    assert len(objects) == len(DISKS)
    prob = tifffile.imread(tmp_path / "a_prob.tif")
    assert prob.shape == truth.shape and prob.dtype == np.float32  # the object probability only
    np.testing.assert_allclose(prob, full[..., 0], atol=1e-5)
    assert output._full is None
    assert tmp_path / "a_prob.tif" in written


def _write(path, array):
    tifffile.imwrite(path, array)
    return path

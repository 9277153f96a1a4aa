import numpy as np
import pytest
import tifffile

from builder.tasks.classical import classical_instances
from builder.tasks.metrics.instances import instance_metrics


def test_separates_touching_disks_in_a_noisy_image(touching_disks):
    lab = touching_disks(size=64, r=10, gap=17)
    rng = np.random.default_rng(0)
    image = 50 + 100 * (lab > 0) + rng.normal(0, 10, lab.shape)
    pred = classical_instances(image[..., None])
    m = instance_metrics(lab, pred)
    assert pred.max() == 2 and m["by_threshold"]["0.8"]["tp"] == 2, m
    # dark objects on a bright background are found too (the minority phase is taken as objects)
    assert classical_instances(255 - image).max() == 2


def test_flat_image_has_no_objects():
    assert classical_instances(np.ones((16, 16))).max() == 0


@pytest.mark.realdata
def test_real_nuclei_image(realdata):
    folder = realdata / "dsb2018_one_image"
    image = tifffile.imread(folder / "img2d.tif")
    mask = tifffile.imread(folder / "mask2d.tif")
    m = instance_metrics(mask, classical_instances(image))
    assert m["ap@0.5"] > 0.5 and m["f1@0.5"] > 0.65, m

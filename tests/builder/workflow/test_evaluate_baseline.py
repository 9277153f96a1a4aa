"""Instance evaluation also scores the classical baseline (Otsu + watershed) on the same test images."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from builder.tasks.classical import classical_instances
from builder.tasks.instance_segmentation import BASELINE_NAME
from builder.tasks.metrics import instance_metrics
from builder.workflow.evaluate_job import evaluate_run
from tests.builder.workflow.predict_helpers import make_recipe, threshold_model, write_instance_dataset, write_run


def test_instance_metrics_json_has_the_classical_baseline(tmp_path):
    data = tmp_path / "data"
    truths = write_instance_dataset(data, splits={"train": 1, "validation": 1, "test": 2})
    # a third test image with a faint object that Otsu's threshold misses, so the baseline is not perfect
    labels = truths["test"][0].copy()
    labels[40:46, 4:12] = 3
    image = np.where(labels > 0, 1100, 100).astype(np.uint16)
    image[labels == 3] = 160
    tifffile.imwrite(data / "test" / "images" / "img9.tif", image)
    tifffile.imwrite(data / "test" / "masks" / "img9.tif", labels.astype(np.uint16))
    run = write_run(tmp_path / "run", threshold_model(3), make_recipe("instance_segmentation", data),
                    postprocess={"threshold": 0.5, "seed_threshold": 0.5, "min_size": 5})

    m = evaluate_run(run)
    baseline = m["baseline"]
    assert baseline["name"] == BASELINE_NAME and "error" not in baseline
    raws = [tifffile.imread(data / "test" / "images" / f"{n}.tif") for n in ("img0", "img1", "img9")]
    masks = [*truths["test"], labels]
    expected = instance_metrics(masks, [classical_instances(r) for r in raws])
    assert baseline["metrics"]["ap@0.5"] == pytest.approx(expected["ap@0.5"])
    assert baseline["metrics"]["n_pred"] == expected["n_pred"]
    assert {"ap@0.5", "f1@0.9", "panoptic_quality@0.7", "merges"} <= set(baseline["metrics"])
    assert baseline["metrics"]["ap@0.5"] == pytest.approx(6 / 7)  # 7 true objects, the faint one missed
    assert json.loads((run / "metrics.json").read_text())["baseline"] == baseline

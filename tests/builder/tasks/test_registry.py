import subprocess
import sys

import numpy as np
import pytest

from builder.errors import CellwrightError
from builder.recipe.schema import TASKS
from builder.tasks import all_tasks, get_task


def test_every_recipe_task_is_registered():
    assert set(all_tasks()) == set(TASKS)
    for name, spec in all_tasks().items():
        assert spec.name == name
        if spec.trainable:
            assert spec.primary_metric == spec.headline[1] and spec.losses and spec.postprocess
            assert spec.report_metrics and spec.head_block and spec.layouts and spec.card[0]


def test_unknown_task_suggests_the_nearest_name():
    with pytest.raises(CellwrightError, match="Did you mean 'segmentation'"):
        get_task("segmentaton")


def test_tracking_trains_an_instance_model_and_is_scored_by_tra():
    spec = get_task("tracking")
    assert spec.trainable and spec.time_lapse and spec.primary_metric == "TRA"
    spec.check_trainable()
    assert spec.default_loss() == get_task("instance_segmentation").default_loss()
    assert spec.output == "instance_maps" and "ctc" in spec.layouts


def test_instance_task_pieces_work_together():
    spec = get_task("instance_segmentation")
    lab = np.zeros((16, 16), np.int32)
    lab[3:12, 3:12] = 1
    target = spec.target_fn()(lab[..., None])
    assert target.shape == (16, 16, 1) and target.dtype == np.float32
    target = target.astype(int)
    prob = np.eye(3, dtype=np.float32)[target[..., 0]]
    pred = spec.postprocess_fn()(prob, threshold=0.5, seed_threshold=0.5, min_size=5)
    from builder.tasks.metrics import instance_metrics

    assert spec.flat_metrics(instance_metrics([lab], [pred]))[spec.primary_metric] == 1.0
    assert spec.target_fn("distance")(lab).shape == (16, 16, 2)
    assert spec.default_loss("distance") == "mse" and spec.default_loss() == "cross_entropy+dice"
    with pytest.raises(CellwrightError, match="three_class, distance"):
        spec.target_fn("stardist")


def test_segmentation_and_classification_pieces():
    seg = get_task("segmentation")
    assert seg.target_fn("binary")(np.array([[0, 3], [7, 0]])).tolist() == [[[0.0], [1.0]], [[1.0], [0.0]]]
    cls = get_task("classification")
    assert cls.postprocess_fn()(np.array([[0.2, 0.8], [0.9, 0.1]])).tolist() == [1, 0]
    assert cls.training_metrics() == ["accuracy"] and cls.whole_image_input


def test_importing_the_registry_stays_light():
    code = "import sys, builder.tasks; print(any(m in sys.modules for m in ('tensorflow', 'keras')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

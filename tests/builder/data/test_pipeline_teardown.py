"""The training stream has no tf.data autotuning model thread: that thread sleeps up to a minute between rounds,
and dropping the (infinite) stream's iterator at the end of ``fit`` waited for its sleep (25 to 47 s with no CPU
used in half of the quick-start runs: a gdb backtrace showed the iterator's destructor waiting for
``Model::OptimizeLoop``)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.builder.data.data_helpers import make_recipe, write_seg_folder

pytest.importorskip("tensorflow")


def test_training_stream_has_no_autotune_model_and_still_streams(tmp_path):
    from builder.data.layouts import discover
    from builder.data.pipeline import make_training_datasets

    write_seg_folder(tmp_path, 4)
    recipe = make_recipe("instance_segmentation", data={"masks": "masks", "split": {"validation": 0, "test": 0}},
                         preprocess={"patch": {"size": 16, "per_image": 2, "foreground_fraction": 0.5}})
    train, _, _ = make_training_datasets(recipe, discover(recipe, tmp_path), batch_size=2)
    assert train.options().autotune.enabled is False
    batches = [tuple(np.asarray(part) for part in batch) for batch in train.take(3)]
    assert [b[0].shape for b in batches] == [(2, 16, 16, 1)] * 3

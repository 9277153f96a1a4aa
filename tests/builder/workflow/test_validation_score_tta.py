"""The per-epoch validation score uses the plain network output even when the recipe asks for test-time
augmentation (eight passes per image would eat the time budget); evaluate and predict keep the average."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe


def test_epoch_scores_ignore_tta_but_evaluate_keeps_it(tmp_path: Path):
    from builder.data.layouts import discover
    from builder.model_files.safe_import import load_keras_safely
    from builder.recipe.load import load_recipe
    from builder.run_folder import RunFolder
    from builder.workflow.inference import network_output
    from builder.workflow.validation_score import validation_score

    path = tiny_recipe(tmp_path, "image_to_image", extra_train={"optimizer": {"learning_rate": 0.01}})
    outcome = train_recipe(path, runs_dir=tmp_path / "runs", evaluate=False, report=False, export=False)
    run = RunFolder(outcome.run_dir)
    plain = run.read_recipe()
    data = yaml.safe_load(path.read_text())
    data["evaluate"] = {"postprocess": {"tta": True}}
    path.write_text(yaml.safe_dump(data))
    tta = load_recipe(path)
    assert tta.evaluate.postprocess.tta and not plain.evaluate.postprocess.tta
    model = load_keras_safely(run.best_checkpoint)
    info, norm = run.read_data_info().to_dict(), run.read_normalization().to_dict()
    scores = [validation_score(r, discover(r, r.base_dir), info, norm)(model) for r in (plain, tta)]
    assert scores[0] is not None and scores[1] == pytest.approx(scores[0], abs=1e-9)
    # the recipe's tta still changes the output evaluate and predict use (so the check above can fail)
    x = np.random.default_rng(0).random((32, 40, 1)).astype(np.float32)
    assert not np.allclose(network_output(model, x, plain), network_output(model, x, tta), atol=1e-6)

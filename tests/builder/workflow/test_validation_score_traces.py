"""The per-epoch validation score compiles the network's forward pass once: later epochs reuse the trace
(a retrace per epoch would cost seconds of every epoch on a CPU)."""

from __future__ import annotations

from pathlib import Path

from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe


def test_scoring_every_epoch_traces_the_forward_pass_once(tmp_path: Path):
    from builder.data.layouts import discover
    from builder.model_files.safe_import import load_keras_safely
    from builder.run_folder import RunFolder
    from builder.workflow.inference import _forward
    from builder.workflow.validation_score import validation_score

    path = tiny_recipe(tmp_path, "instance_segmentation", extra_train={"instance_target": "star_convex"})
    outcome = train_recipe(path, runs_dir=tmp_path / "runs", evaluate=False, report=False, export=False)
    run = RunFolder(outcome.run_dir)
    recipe = run.read_recipe()
    model = load_keras_safely(run.best_checkpoint)
    scorer = validation_score(recipe, discover(recipe, recipe.base_dir), run.read_data_info().to_dict(),
                              run.read_normalization().to_dict())
    assert scorer is not None and len(scorer.samples) >= 2
    shapes = {scorer._load().images[i].shape for i in range(len(scorer.samples))}
    scores = [scorer(model) for _ in range(3)]  # three epochs' worth
    assert scores[0] == scores[1] == scores[2]
    assert _forward(model).experimental_get_tracing_count() == len(shapes)

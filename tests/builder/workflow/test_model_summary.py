"""The model summary written at the start of training counts every node's parameters, also for blocks that build
several layers (the star head: a feature convolution, probability and ray outputs), so the node table adds up to
the model's total."""

from __future__ import annotations

import json
from pathlib import Path

from builder.recipe import load_recipe
from builder.run_folder import RunFolder
from builder.workflow.fit_job import _write_model_summary


def test_node_parameters_add_up_to_the_total_with_a_star_head(tmp_path: Path):
    path = tmp_path / "r.yaml"
    path.write_text("cellwright: 1\nname: t\ntask: instance_segmentation\n"
                    "data: {layout: folders, root: data, images: images, masks: masks}\n"
                    "model: {template: unet, params: {depth: 2, base_filters: 4}}\n"
                    "train: {instance_target: star_convex}\n")
    recipe = load_recipe(path)
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    _write_model_summary(recipe, (32, 32, 1), None, None, run)
    summary = json.loads(run.model_summary_path.read_text())
    params = {node["id"]: node["params"] for node in summary["nodes"]}
    head = next(node for node in summary["nodes"] if node["block"] == "instance_head")
    assert head["params"] > 0  # was 0: no layer is named exactly "head" apart from the parameter-free concatenation
    assert sum(params.values()) == summary["total_params"]

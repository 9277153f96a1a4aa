"""The graph checker reports every problem at once, each at its node; it imports no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from builder.blocks.context import ModelContext
from builder.cli.main import EXIT_USER_ERROR
from builder.compile import check_graph
from builder.errors import GraphError
from builder.graph_checks import find_problems

ROOT = Path(__file__).resolve().parents[2]
CTX = ModelContext(task="segmentation", input_shape=(32, 32, 1), n_classes=2)


def node(node_id, block, inputs=(), **params):
    return {"id": node_id, "block": block, "params": params, "inputs": list(inputs)}


def several_faults():
    """Unknown block ('mystery'), dangling input ('ghost' into 'cat') and a channel mismatch ('sum')."""
    return [
        node("input", "input"),
        node("a", "conv2d", ["input"], filters=8),
        node("b", "conv2d", ["input"], filters=4),
        node("sum", "add", ["a", "b"]),
        node("mystery", "conv3d", ["input"]),
        node("cat", "concatenate", ["sum", "mystery", "ghost"]),
        node("head", "segmentation_head", ["cat"]),
    ]


def test_every_fault_is_reported_at_its_node():
    report = find_problems(several_faults(), CTX, key_prefix="model.graph")
    found = {(p.node, p.port, p.key): p.what for p in report.problems}
    assert set(found) == {("mystery", "", "model.graph[4].block"), ("cat", "inputs", "model.graph[5].inputs[2]"),
                          ("sum", "", "model.graph[3]")}
    assert "Unknown block 'conv3d'" in found[("mystery", "", "model.graph[4].block")]
    assert "'ghost' that does not exist" in found[("cat", "inputs", "model.graph[5].inputs[2]")]
    assert "input 'a' gives (B, 32, 32, 8) but input 'b' gives (B, 32, 32, 4)" in found[("sum", "", "model.graph[3]")]
    assert report.shape_of("a") == (32, 32, 8)  # the healthy part still has shapes


def test_compile_raises_one_error_listing_all():
    with pytest.raises(GraphError) as caught:
        check_graph(several_faults(), CTX)
    assert [p.node for p in caught.value.problems] == ["mystery", "cat", "sum"]
    assert caught.value.format().startswith("3 problems found in the model graph:")


def test_port_references_are_understood():
    nodes = [node("input", "input"), node("encoder", "backbone", ["input"], name="mobilenet_v2", weights="none"),
             node("up", "upsampling2d", ["encoder.s8"], size=8), node("head", "segmentation_head", ["up"])]
    report = find_problems(nodes, ModelContext(task="segmentation", input_shape=(64, 64, 3)))
    assert report.problems == [] and report.shape_of("encoder.s8")[:2] == (8, 8)
    nodes[2]["inputs"] = ["encoder.s7"]
    problem, = find_problems(nodes, ModelContext(task="segmentation", input_shape=(64, 64, 3))).problems
    assert problem.node == "up" and "has no output 's7'" in problem.what and "encoder.s8" in problem.fix


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "builder.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_build_and_validate_list_every_problem_with_node_and_recipe_key(tmp_path):
    graph = [n for n in several_faults() if n["id"] != "mystery"]  # the recipe schema refuses unknown blocks
    graph[4]["inputs"] = ["sum", "ghost"]
    graph.insert(3, node("lonely", "conv2d", ["input"], filters=2))
    recipe = {"cellwright": 1, "name": "broken", "task": "segmentation",
              "data": {"layout": "folders", "root": "data", "masks": "masks"}, "preprocess": {"patch": {"size": 32}},
              "model": {"graph": graph}}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    result = _run_cli("build", str(path), "--json", "--no-diagram", cwd=tmp_path)
    assert result.returncode == EXIT_USER_ERROR, result.stderr
    problems = json.loads(result.stdout)["error"]["problems"]
    assert {(p["node"], p["key"]) for p in problems} == {
        ("lonely", "model.graph[3]"), ("cat", "model.graph[5].inputs[1]"), ("sum", "model.graph[4]")}
    text = _run_cli("build", str(path), "--no-diagram", cwd=tmp_path).stderr
    assert "model.graph[5].inputs[1] node 'cat' (concatenate) port 'inputs': input 'ghost' names" in text
    line = 1 + next(i for i, row in enumerate(path.read_text().splitlines()) if row.strip() == "- ghost")
    validated = _run_cli("validate", str(path), cwd=tmp_path)  # the validator runs the same checker
    assert validated.returncode == 1
    assert f"{path}:{line}:7 model.graph[5].inputs[1] node 'cat' (concatenate) port 'inputs': input 'ghost'" \
        in validated.stdout


def test_checker_imports_no_tensorflow():
    code = (
        "import sys\n"
        "from builder.graph_checks import find_problems\n"
        "from builder.model_context import context_from_data\n"
        "import gui.graph_editor.problems\n"
        "from builder.templates import get_template\n"
        "ctx = context_from_data({'task': 'segmentation'})\n"
        "nodes = get_template('fpn').expand(get_template('fpn').Params(), ctx)\n"
        "assert find_problems(nodes, ctx).problems == []\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr

"""The recipe's model section: validation locations, JSON Schema, compile, `build` and `expand` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from builder.recipe import load_recipe
from builder.recipe.schema import Recipe

BASE = {"name": "tiny", "task": "segmentation", "data": {"masks": "masks", "classes": ["bg", "cell", "edge"]},
        "preprocess": {"patch": {"size": 32}}}


def errors(model: dict) -> list[tuple]:
    with pytest.raises(ValidationError) as info:
        Recipe(**BASE, model=model)
    return [(e["loc"], e["msg"]) for e in info.value.errors()]


def test_template_params_are_checked_at_their_key_path():
    found = errors({"template": "unet", "params": {"depth": 0, "attention": "maybe"}})
    assert {loc for loc, _ in found} == {("model", "params", "depth"), ("model", "params", "attention")}
    found = errors({"template": "unet", "params": {"dept": 2}})
    assert found[0][0] == ("model", "params", "dept")


def test_unknown_template_and_block_list_the_valid_names():
    (loc, msg), = errors({"template": "unnet"})
    assert loc == ("model", "template") and "Did you mean 'unet'?" in msg and "classifier, fpn, restoration" in msg
    graph = [{"id": "input", "block": "input"}, {"id": "c", "block": "conv3d", "inputs": ["input"]}]
    (loc, msg), = errors({"graph": graph})
    assert loc == ("model", "graph", 1, "block") and "Valid blocks: " in msg and "conv2d" in msg


def test_graph_node_params_are_checked_at_their_key_path():
    graph = [{"id": "input", "block": "input"}, {"id": "c", "block": "conv2d", "params": {"filters": 0}},
             {"id": "d", "block": "dense", "params": {"unitz": 3}}]
    locs = [loc for loc, _ in errors({"graph": graph})]
    assert locs == [("model", "graph", 1, "params", "filters"), ("model", "graph", 2, "params", "unitz")]


def test_downsampling_factor_of_templates_and_graphs():
    assert Recipe(**BASE, model={"params": {"depth": 4}}).model.downsampling_factor() == 16
    graph = [{"id": "input", "block": "input"}, {"id": "p", "block": "max_pooling2d", "inputs": ["input"]},
             {"id": "q", "block": "conv2d", "params": {"strides": 4}, "inputs": ["p"]},
             {"id": "u", "block": "upsampling2d", "params": {"size": 8}, "inputs": ["q"]}]
    assert Recipe(**BASE, model={"graph": graph}).model.downsampling_factor() == 8


def test_json_schema_holds_every_block_and_template():
    from builder.blocks.registry import all_blocks

    schema = json.dumps(Recipe.model_json_schema())
    for cls in all_blocks().values():
        assert f'"{cls.__name__}Node"' in schema and f'"const": "{cls.name}"' in schema
    for name in ("UNetParams", "FPNParams", "ClassifierParams", "RestorationParams", "ConvBlockParams"):
        assert f'"{name}"' in schema
    assert '"propertyName": "block"' in schema


def write(tmp_path: Path, model: dict, **extra) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({**BASE, **extra, "model": model}, sort_keys=False))
    return path


def test_expand_output_pasted_back_compiles_to_the_same_model(tmp_path):
    from builder.cli.commands.expand import expanded_yaml
    from builder.compile import compile_recipe_model

    template = {"template": "unet", "params": {"depth": 2, "base_filters": 4, "attention": True,
                                               "block": "residual", "norm": "group", "groups": 2}}
    recipe = load_recipe(write(tmp_path, template))
    text = expanded_yaml(recipe)
    pasted = yaml.safe_load(text)["model"]
    assert "graph" in pasted and "template" not in pasted
    again = load_recipe(write(tmp_path, pasted))
    a, b = compile_recipe_model(recipe), compile_recipe_model(again)
    assert [layer.name for layer in a.layers] == [layer.name for layer in b.layers]
    assert a.count_params() == b.count_params()
    b.set_weights(a.get_weights())
    x = np.random.default_rng(3).random((1, 32, 32, 1), dtype="float32")
    np.testing.assert_array_equal(np.asarray(a(x, training=False)), np.asarray(b(x, training=False)))


def test_build_command_prints_shapes_params_and_draws(tmp_path, capsys):
    from builder.cli.main import main

    path = write(tmp_path, {"template": "unet", "params": {"depth": 2, "base_filters": 4}})
    png = tmp_path / "graph.png"
    assert main(["build", str(path), "--json", "--diagram", str(png)]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = {row["id"]: row for row in result["nodes"]}
    assert rows["head"]["shapes"] == {"output": [32, 32, 3]} and rows["enc0"]["params"] > 0
    assert sum(r["params"] for r in result["nodes"]) == result["total_params"]
    assert result["downsampling_factor"] == 4
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["build", str(path), "--no-diagram"]) == 0
    assert "bottleneck" in capsys.readouterr().out


def test_build_command_reports_graph_errors(tmp_path, capsys):
    from builder.cli.main import main

    graph = [{"id": "input", "block": "input"}, {"id": "a", "block": "conv2d", "inputs": ["input"]},
             {"id": "b", "block": "segmentation_head", "inputs": ["input"]}]
    assert main(["build", str(write(tmp_path, {"graph": graph}))]) == 2
    assert "node 'a' (conv2d) is not used by any other node" in capsys.readouterr().err


def test_classification_recipe_compiles_with_fixed_size(tmp_path):
    from builder.compile import compile_recipe_model

    path = tmp_path / "clf.yaml"
    path.write_text(yaml.safe_dump({
        "name": "clf", "task": "classification", "data": {"layout": "class_folders", "classes": ["a", "b", "c"]},
        "preprocess": {"image_size": 32}, "model": {"template": "classifier", "params": {"base_filters": 4}},
    }))
    model = compile_recipe_model(load_recipe(path))
    assert model.input_shape == (None, 32, 32, 1) and model.output_shape == (None, 3)


def test_blocks_and_templates_commands(capsys):
    from builder.cli.main import main

    assert main(["blocks"]) == 0 and "conv_block" in capsys.readouterr().out
    assert main(["blocks", "attention_gate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inputs"][1]["name"] == "gating"
    assert main(["templates", "unet"]) == 0 and "attention" in capsys.readouterr().out
    assert main(["blocks", "conv3d"]) == 2 and "Did you mean 'conv2d'" in capsys.readouterr().err


def test_build_command_counts_the_classes_of_a_manifest(tmp_path, capsys):
    import tifffile

    from builder.cli.main import main

    lines = ["path,label"]
    for i in range(16):
        tifffile.imwrite(tmp_path / f"c{i}.tif", np.full((8, 8), i, np.uint8))
        lines.append(f"c{i}.tif,phase{i % 8}")
    (tmp_path / "list.csv").write_text("\n".join(lines) + "\n")
    recipe = {"cellwright": 1, "name": "phases", "task": "classification",
              "data": {"layout": "manifest", "manifest": "list.csv"}, "preprocess": {"image_size": 32},
              "model": {"template": "classifier", "params": {"depth": 2, "base_filters": 4}}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert main(["build", str(path), "--json", "--no-diagram"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)["nodes"]}
    assert rows["head"]["shapes"] == {"probabilities": [8]}  # 8 phases in the manifest, not the default 2

"""Each block builds as layer(s) named after its node, with shapes matching the static inference."""

from __future__ import annotations

import numpy as np
import pytest

from builder.blocks.context import ModelContext
from builder.compile import build_checked, check_graph

CTX = ModelContext(task="segmentation", input_shape=(16, 16, 2), n_classes=2)

# block -> (params, extra nodes before it (ids a, b are 8-channel images), input ids)
CASES = {
    "conv2d": ({"filters": 4, "strides": 2, "activation": "relu"}, ["a"]),
    "separable_conv2d": ({"filters": 4}, ["a"]),
    "conv2d_transpose": ({"filters": 4}, ["a"]),
    "upsampling2d": ({"interpolation": "bilinear"}, ["a"]),
    "resizing": ({"height": 12, "width": 10}, ["a"]),
    "max_pooling2d": ({}, ["a"]),
    "average_pooling2d": ({"pool_size": 3, "strides": 1, "padding": "same"}, ["a"]),
    "global_average_pooling2d": ({}, ["a"]),
    "global_max_pooling2d": ({}, ["a"]),
    "batch_normalization": ({}, ["a"]),
    "group_normalization": ({"groups": 4}, ["a"]),
    "layer_normalization": ({}, ["a"]),
    "dropout": ({"rate": 0.5}, ["a"]),
    "spatial_dropout2d": ({"rate": 0.5}, ["a"]),
    "activation": ({"activation": "gelu"}, ["a"]),
    "add": ({}, ["a", "b"]),
    "multiply": ({"float32": True}, ["a", "b"]),
    "concatenate": ({}, ["a", "b", "input"]),
    "dense": ({"units": 3}, ["a"]),
    "flatten": ({}, ["a"]),
    "reshape": ({"target_shape": [8, 8, -1]}, ["a"]),
    "conv_block": ({"filters": 4, "norm": "group", "groups": 2, "dropout": 0.1, "separable": True}, ["a"]),
    "residual_block": ({"filters": 6, "norm": "layer", "n_convs": 1}, ["a"]),
    "squeeze_excite": ({"ratio": 0.5}, ["a"]),
    "attention_gate": ({"inter_filters": 3}, ["a", "b"]),
    "down_block": ({"filters": 4, "pooling": "average", "residual": True}, ["a"]),
    "up_block": ({"filters": 4, "upsampling": "bilinear"}, ["small", "a"]),
    "classification_head": ({"n_classes": 3, "hidden_units": 5, "dropout": 0.1}, ["a"]),
    "segmentation_head": ({"n_classes": 4}, ["a"]),
    "instance_head": ({"target": "distance"}, ["a"]),
    "regression_head": ({"n_outputs": 2}, ["a", "input"]),
}


def graph_with(block: str) -> list[dict]:
    params, inputs = CASES[block]
    nodes = [
        {"id": "input", "block": "input"},
        {"id": "a", "block": "conv2d", "params": {"filters": 8}, "inputs": ["input"]},
        {"id": "b", "block": "conv2d", "params": {"filters": 8}, "inputs": ["input"]},
        {"id": "small", "block": "max_pooling2d", "inputs": ["b"]},
        {"id": "node", "block": block, "params": params, "inputs": inputs},
    ]
    needed = set(inputs) | {"input"} | ({"b"} if "small" in inputs else set())
    return [n for n in nodes if n["id"] in needed or n["id"] == "node"]


def test_every_block_has_a_case():
    from builder.blocks.registry import all_blocks

    assert set(all_blocks()) - set(CASES) == {"input", "backbone"}


@pytest.mark.parametrize("block", sorted(CASES))
def test_block_builds_with_its_static_shape_and_config_round_trips(block):
    nodes = graph_with(block)
    report = check_graph(nodes, CTX, check_task=False)
    model = build_checked(report, CTX)
    layer = model.get_layer("node")
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config()["name"] == "node"
    out = model(np.random.default_rng(0).random((2, 16, 16, 2), dtype="float32"))
    got, expected = tuple(out.shape[1:]), report.nodes["node"].shape
    assert got == expected, f"{block}: keras {got} vs static {expected}"
    assert sorted(layer.name for layer in model.layers) == sorted(n["id"] for n in nodes)

"""Every static graph check fails before TensorFlow runs, naming the node(s), the shapes and a fix."""

from __future__ import annotations

import pytest

from builder.blocks.context import ModelContext
from builder.compile import check_graph
from builder.errors import GraphError
from builder.templates import get_template

CTX = ModelContext(task="segmentation", input_shape=(32, 32, 1), n_classes=2)


def node(node_id, block, inputs=(), **params):
    return {"id": node_id, "block": block, "params": params, "inputs": list(inputs)}


def good():
    return [
        node("input", "input"),
        node("conv", "conv2d", ["input"], filters=4),
        node("head", "segmentation_head", ["conv"]),
    ]


def message(nodes, ctx=CTX) -> str:
    with pytest.raises(GraphError) as info:
        check_graph(nodes, ctx)
    return info.value.format()


def test_good_graph_passes_with_shapes():
    report = check_graph(good(), CTX)
    assert report.order == ["input", "conv", "head"] and report.output == "head"
    assert report.nodes["head"].shape == (32, 32, 2) and report.factor == 1


def test_unknown_block():
    nodes = good()
    nodes[1]["block"] = "conv3d"
    text = message(nodes)
    assert "Unknown block 'conv3d'. Did you mean 'conv2d'?" in text and "Valid blocks:" in text


def test_unknown_node_id_names_both_nodes():
    nodes = good()
    nodes[2]["inputs"] = ["convv"]
    text = message(nodes)
    assert "node 'head'" in text and "'convv' that does not exist" in text and "did you mean 'conv'" in text


def test_duplicate_ids():
    nodes = good()
    nodes[2]["id"] = "conv"
    text = message(nodes)
    assert "nodes 1 and 2 of the graph both have the id 'conv'" in text and "rename" in text


def test_cycle_lists_the_loop():
    nodes = good() + [node("extra", "conv2d", ["head"], filters=1)]
    nodes[1]["inputs"] = ["input", "extra"]
    nodes[1]["block"] = "concatenate"
    nodes[1]["params"] = {}
    text = message(nodes)
    assert "cycle" in text and "conv -> head -> extra -> conv" in text and "fix: remove" in text


def test_dangling_node_names_it_and_the_output():
    nodes = good()
    nodes.insert(2, node("lonely", "conv2d", ["input"], filters=2))
    text = message(nodes)
    assert "node 'lonely' (conv2d) is not used by any other node" in text and "model output is 'head'" in text


def test_missing_inputs():
    nodes = good()
    nodes[1]["inputs"] = []
    text = message(nodes)
    assert "node 'conv'" in text and "conv2d needs 1 input(s) (input) but the node lists no inputs" in text


def test_wrong_number_of_inputs():
    nodes = good()
    nodes[2]["inputs"] = ["conv", "input"]
    text = message(nodes)
    assert "segmentation_head takes 1 input(s) (input) but got 2: conv, input" in text


def test_too_few_inputs_for_a_merge():
    nodes = good()
    nodes.insert(2, node("sum", "add", ["conv"]))
    nodes[3]["inputs"] = ["sum"]
    assert "add takes at least 2 input(s)" in message(nodes)


def test_vector_into_image_block():
    nodes = [node("input", "input"), node("gap", "global_average_pooling2d", ["input"]),
             node("conv", "conv2d", ["gap"]), node("head", "segmentation_head", ["conv"])]
    text = message(nodes)
    assert "node 'gap' gives a vector (B, 1) but node 'conv' (conv2d) expects an image (B, H, W, C)" in text
    assert "fix:" in text


def test_skip_mismatch_when_input_not_divisible_by_two_to_the_depth():
    ctx = ModelContext(task="segmentation", input_shape=(36, 36, 1))
    nodes = get_template("unet").expand({"depth": 3, "base_filters": 4}, ctx)
    text = message(nodes, ctx)
    # 36 -> 18 -> 9 -> 4; 4 doubled is 8 but the skip 'enc2' is 9 x 9
    assert "node 'cat2' (concatenate)" in text
    assert "input 'up2' gives (B, 8, 8, 16) but input 'enc2' gives (B, 9, 9, 16)" in text
    assert "multiple of the network's down-sampling factor 8 (e.g. 32 instead of 36)" in text


def test_up_block_skip_mismatch():
    ctx = ModelContext(task="segmentation", input_shape=(18, 18, 1))
    nodes = [node("input", "input"), node("down", "down_block", ["input"], filters=4),
             node("down2", "down_block", ["down"], filters=4), node("up", "up_block", ["down2", "down"], filters=4),
             node("up2", "up_block", ["up", "input"], filters=4), node("head", "segmentation_head", ["up2"])]
    text = message(nodes, ctx)
    assert "node 'up' (up_block)" in text and "input 'down2' (B, 4, 4, 4) doubled is (B, 8, 8, 4)" in text
    assert "skip 'down' gives (B, 9, 9, 4)" in text


def test_add_channel_mismatch_names_both_inputs():
    nodes = [node("input", "input"), node("a", "conv2d", ["input"], filters=8),
             node("b", "conv2d", ["input"], filters=4), node("sum", "add", ["a", "b"]),
             node("head", "segmentation_head", ["sum"])]
    text = message(nodes)
    assert "input 'a' gives (B, 32, 32, 8) but input 'b' gives (B, 32, 32, 4); add needs identical shapes" in text
    assert "1x1 conv2d with filters: 8 after 'b'" in text


def test_group_norm_groups_must_divide_channels():
    nodes = good()
    nodes.insert(2, node("gn", "group_normalization", ["conv"], groups=3))
    nodes[3]["inputs"] = ["gn"]
    assert "groups=3 does not divide the 4 channels of input 'conv' (B, 32, 32, 4)" in message(nodes)


def test_output_must_fit_the_task():
    nodes = good()
    nodes[2] = node("head", "conv2d", ["conv"], filters=5)
    assert "segmentation expects 2 output channels here but 'head' gives (B, 32, 32, 5)" in message(nodes)
    nodes[1]["params"]["strides"] = 2
    text = message(nodes)
    assert "input 'input' gives (B, 32, 32, 1) and output 'head' gives (B, 16, 16, 5)" in text
    clf = ModelContext(task="classification", input_shape=(32, 32, 1))
    assert "classification needs a vector (B, n_classes) output" in message(good(), clf)


def test_bad_params_name_the_key_and_value():
    nodes = good()
    nodes[1]["params"] = {"filters": 0}
    text = message(nodes)
    assert "node 'conv' (conv2d) params.filters" in text and "Received: filters=0" in text


def test_flatten_needs_known_size_and_pooling_must_fit():
    ctx = ModelContext(task="segmentation", input_shape=(None, None, 1))
    nodes = [node("input", "input"), node("flat", "flatten", ["input"]), node("head", "classification_head", ["flat"])]
    assert "input 'input' has an unknown size (B, ?, ?, 1)" in message(nodes, ctx)
    tiny = ModelContext(task="segmentation", input_shape=(1, 1, 1))
    nodes = [node("input", "input"), node("pool", "max_pooling2d", ["input"]),
             node("head", "segmentation_head", ["pool"])]
    assert "pooling window does not fit the input (B, 1, 1, 1)" in message(nodes, tiny)


def test_unknown_output_port():
    nodes = good()
    nodes[2]["inputs"] = ["conv.s8"]
    assert "node 'conv' (conv2d) has no output 's8'" in message(nodes)

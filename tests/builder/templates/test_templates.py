"""Templates expand into valid graphs (static, no TensorFlow) and compile to working Keras models."""

from __future__ import annotations

import numpy as np
import pytest

from builder.blocks.context import ModelContext
from builder.compile import check_graph, compile_graph
from builder.errors import GraphError
from builder.templates import all_templates, get_template

SEG = ModelContext(task="segmentation", input_shape=(32, 32, 1), n_classes=3)
INST_DIST = ModelContext(task="instance_segmentation", input_shape=(64, 64, 2), instance_target="distance")
I2I = ModelContext(task="image_to_image", input_shape=(32, 32, 2), n_outputs=2)
CLF = ModelContext(task="classification", input_shape=(32, 32, 1), n_classes=4, fixed_size=True)
NO_WEIGHTS = {"name": "mobilenet_v2", "weights": "none"}

CASES = [
    ("unet", {"depth": 2, "base_filters": 4}, SEG),
    ("unet", {"depth": 3, "base_filters": 4, "block": "residual", "norm": "group", "groups": 2, "dropout": 0.1,
              "attention": True, "upsampling": "bilinear"}, SEG),
    ("unet", {"depth": 1, "base_filters": 4, "norm": "none", "n_convs": 1}, INST_DIST),
    ("restoration", {"depth": 2, "base_filters": 4}, I2I),
    ("restoration", {"depth": 1, "base_filters": 4, "residual": False, "norm": "batch"},
     ModelContext(task="image_to_image", input_shape=(32, 32, 1), n_outputs=2)),
    ("classifier", {"depth": 2, "base_filters": 4, "hidden_units": 8}, CLF),
    ("classifier", {"depth": 2, "base_filters": 4, "pooling": "flatten", "activation": "sigmoid"}, CLF),
]
BACKBONE_CASES = [
    ("unet", {"depth": 5, "base_filters": 4, "backbone": NO_WEIGHTS}, SEG),
    ("fpn", {"backbone": NO_WEIGHTS, "pyramid_filters": 8, "head_filters": 4}, INST_DIST),
    ("classifier", {"backbone": NO_WEIGHTS, "dropout": 0.1}, CLF),
]


def test_templates_are_registered():
    assert {"unet", "fpn", "classifier", "restoration"} <= set(all_templates())
    with pytest.raises(GraphError, match="Unknown template 'unnet'. Did you mean 'unet'?"):
        get_template("unnet")


@pytest.mark.parametrize(("name", "params", "ctx"), CASES + BACKBONE_CASES)
def test_expansion_passes_the_static_checks(name, params, ctx):
    template = get_template(name)
    nodes = template.expand(params, ctx)
    report = check_graph(nodes, ctx)
    assert report.factor == template.downsampling_factor(params)
    assert len({n["id"] for n in nodes}) == len(nodes)


def test_unet_structure_follows_the_params():
    ids = [n["id"] for n in get_template("unet").expand({"depth": 3, "attention": True}, SEG)]
    assert [i for i in ids if i.startswith("pool")] == ["pool1", "pool2", "pool3"]
    assert {"att0", "att1", "att2", "bottleneck", "head"} <= set(ids)
    residual = get_template("unet").expand({"depth": 2, "block": "residual"}, SEG)
    assert {n["block"] for n in residual if n["id"].startswith(("enc", "dec"))} == {"residual_block"}
    assert get_template("unet").downsampling_factor({"depth": 4}) == 16


def test_fpn_distance_target_has_two_semantic_heads():
    nodes = get_template("fpn").expand({"backbone": NO_WEIGHTS}, INST_DIST)
    blocks = {n["id"]: n for n in nodes}
    assert blocks["head"]["inputs"] == ["inner_distance", "outer_distance"]
    assert check_graph(nodes, INST_DIST).nodes["head"].shape == (64, 64, 2)


def test_template_refuses_other_tasks_and_restoration_channel_mismatch():
    with pytest.raises(GraphError, match="template 'classifier' does not support the task 'segmentation'"):
        get_template("classifier").expand({}, SEG)
    mismatch = ModelContext(task="image_to_image", input_shape=(32, 32, 1), n_outputs=2)
    with pytest.raises(GraphError, match=r"input has 1 channel\(s\) and the target 2.*\n.*residual: false"):
        get_template("restoration").expand({}, mismatch)


@pytest.mark.parametrize(("name", "params", "ctx"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_template_compiles_saves_and_loads_identically(name, params, ctx, tmp_path):
    import keras

    model = compile_graph(get_template(name).expand(params, ctx), ctx)
    x = np.random.default_rng(1).random((2, *ctx.input_shape), dtype="float32")
    y = np.asarray(model(x, training=False))
    expected = {"classification": (2, ctx.n_classes), "image_to_image": (2, 32, 32, ctx.n_outputs)}.get(
        ctx.task, (2, *ctx.input_shape[:2], 3 if ctx.task == "segmentation" else 2))
    assert y.shape == expected
    path = tmp_path / "model.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(again(x, training=False)), y)


@pytest.mark.parametrize(("name", "params", "ctx"), BACKBONE_CASES, ids=[c[0] for c in BACKBONE_CASES])
def test_backbone_template_compiles_and_round_trips(name, params, ctx, tmp_path):
    pytest.importorskip("builder.backbones.build")
    import keras

    model = compile_graph(get_template(name).expand(params, ctx), ctx)
    assert model.get_layer("encoder").name == "encoder"
    x = np.random.default_rng(2).random((1, *ctx.input_shape), dtype="float32")
    y = np.asarray(model(x, training=False))
    assert y.shape[0] == 1 and np.isfinite(y).all()
    if name == "classifier":  # one save/load round trip through a backbone is enough here
        model.save(tmp_path / "m.keras")
        again = keras.saving.load_model(tmp_path / "m.keras")
        np.testing.assert_allclose(np.asarray(again(x, training=False)), y, atol=1e-6)

"""The star-convex loss and head with real Keras models, and the recipe settings that select them."""

from __future__ import annotations

import numpy as np
import pytest

from builder.blocks.context import ModelContext
from builder.compile import compile_graph
from builder.errors import CellwrightError
from builder.tasks.losses import make_loss, resolve_loss
from builder.tasks.star_convex import N_RAYS, star_convex_target
from builder.templates import get_template
from tests.builder.tasks.conftest import make_touching_disks

keras = pytest.importorskip("keras")

STAR = ModelContext(task="instance_segmentation", input_shape=(32, 32, 1), instance_target="star_convex")


def _value(loss, y_true, y_pred) -> float:
    return float(keras.ops.convert_to_numpy(loss(y_true, y_pred)))


def _target() -> np.ndarray:
    return star_convex_target(make_touching_disks(size=32, r=7, gap=12))[None]


def test_star_loss_weights_distance_errors_by_the_probability():
    loss = make_loss("instance_segmentation", "auto", instance_target="star_convex")
    assert resolve_loss("instance_segmentation", instance_target="star_convex") == "star"
    y = _target()
    pred = y.copy()
    pred[..., 0] = np.clip(pred[..., 0], 1e-3, 1 - 1e-3)
    best = _value(loss, y, pred)
    off = pred.copy()
    off[..., 1:] += 2.0 * (y[..., :1] > 0)  # every object pixel 2 px too far on every ray
    assert _value(loss, y, off) == pytest.approx(best + 0.2 * 2.0, rel=1e-4)
    background = pred.copy()
    background[..., 1:] += 5.0 * (y[..., :1] == 0)  # distances predicted in the background do not count
    assert _value(loss, y, background) == pytest.approx(best, rel=1e-5)
    wrong_prob = pred.copy()
    wrong_prob[..., 0] = 1.0 - wrong_prob[..., 0]
    assert _value(loss, y, wrong_prob) > best + 1.0


def test_star_loss_accepts_only_itself():
    with pytest.raises(CellwrightError, match="Received: loss=mse"):
        resolve_loss("instance_segmentation", "mse", instance_target="star_convex")
    with pytest.raises(CellwrightError, match="Received: loss=star"):
        resolve_loss("instance_segmentation", "star")  # three_class


def test_unet_with_the_star_head_trains_saves_and_loads(tmp_path):
    template = get_template("unet")
    nodes = template.expand(template.Params.model_validate({"depth": 1, "base_filters": 4}), STAR)
    model = compile_graph(nodes, STAR)
    assert model.output_shape[-1] == 1 + N_RAYS
    model.compile(optimizer="adam", loss=make_loss("instance_segmentation", instance_target="star_convex"))
    x = np.random.default_rng(0).random((2, 32, 32, 1)).astype(np.float32)
    y = np.concatenate([_target(), _target()])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    out = model.predict(x, verbose=0)
    assert out.shape == (2, 32, 32, 1 + N_RAYS) and out[..., 0].min() >= 0 and out[..., 0].max() <= 1
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), out, atol=1e-5)


def test_recipe_selects_and_validates_the_star_target(tmp_path):
    from builder.recipe import load_recipe
    from builder.tasks import get_task

    def write(target: str, loss: str = "auto") -> object:
        path = tmp_path / f"{target}-{loss}.yaml"
        path.write_text(f"cellwright: 1\nname: t\ntask: instance_segmentation\ndata: {{layout: demo, demo: nuclei}}\n"
                        f"train: {{instance_target: {target}, loss: {loss}}}\n")
        return path

    recipe = load_recipe(write("star_convex"))
    task = get_task("instance_segmentation")
    assert task.variant(recipe) == "star_convex" and task.output_channels(STAR) == 1 + N_RAYS
    assert task.postprocess_settings(recipe)["nms_threshold"] == pytest.approx(0.4)
    with pytest.raises(CellwrightError, match="star_convex"):
        load_recipe(write("star"))
    with pytest.raises(CellwrightError, match=r"train.loss.*\(star_convex\). Expected one of: auto, star"):
        load_recipe(write("star_convex", "dice"))


def test_star_head_learns_distances_in_units_of_ten_pixels():
    """One optimiser step moves the ray distances RAY_UNIT times as far as an unscaled convolution would."""
    from builder.tasks.star_convex import RAY_UNIT

    template = get_template("unet")
    model = compile_graph(template.expand(template.Params.model_validate({"depth": 1, "base_filters": 4}), STAR),
                          STAR)
    rays = next(layer for layer in model.layers if layer.name.endswith("_rays"))
    x = np.zeros((1, 32, 32, 1), np.float32)
    before = model.predict(x, verbose=0)[..., 1:]
    rays.bias.assign(rays.bias.numpy() + 0.1)
    after = model.predict(x, verbose=0)[..., 1:]
    np.testing.assert_allclose(after - before, 0.1 * RAY_UNIT, atol=1e-4)


def test_star_loss_skips_rays_that_left_the_patch():
    """Rays of unknown length (NO_TARGET: they reach the patch border inside their object) add no error, and
    the known rays of the same pixel count as much as in a pixel whose rays are all known."""
    from builder.tasks.label_arrays import NO_TARGET

    loss = make_loss("instance_segmentation", "auto", instance_target="star_convex")
    y = star_convex_target(make_touching_disks(size=32, r=7, gap=12)[:, 4:28])[None]  # both disks cut
    unknown = y[..., 1:] == NO_TARGET
    assert unknown.any()
    pred = y.copy()
    pred[..., 1:][unknown] = 5.0  # rays of unknown length predicted as anything
    pred[..., 0] = np.clip(pred[..., 0], 1e-3, 1 - 1e-3)
    best = _value(loss, y, pred)
    longer = pred.copy()
    longer[..., 1:] += 30.0 * unknown
    assert _value(loss, y, longer) == pytest.approx(best, rel=1e-5)
    off = pred.copy()
    off[..., 1:] += 2.0 * ((y[..., :1] > 0) & ~unknown)  # every known ray of every object pixel 2 px too long
    assert _value(loss, y, off) == pytest.approx(best + 0.2 * 2.0, rel=1e-4)


@pytest.mark.parametrize("features", [None, 0])
def test_star_head_reads_the_rays_from_a_feature_convolution(features):
    """The 32 ray distances come from a 3x3 convolution with enough features, not straight from the U-Net's last
    level (4 features here, 16 in the example): star_features: 0 keeps the direct head."""
    from builder.blocks.heads import STAR_FEATURES

    template = get_template("unet")
    head = {} if features is None else {"star_features": features}
    graph = template.expand(template.Params.model_validate({"depth": 1, "base_filters": 4}), STAR)
    for node in graph:
        if node["block"] == "instance_head":
            node["params"] = {**node.get("params", {}), **head}
    model = compile_graph(graph, STAR)
    rays = next(layer for layer in model.layers if layer.name.endswith("_rays"))
    assert rays.input.shape[-1] == (STAR_FEATURES if features is None else 4)
    assert STAR_FEATURES >= N_RAYS
    assert model.output_shape[-1] == 1 + N_RAYS

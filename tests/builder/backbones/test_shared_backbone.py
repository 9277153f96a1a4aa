"""``backbone: {from: bundle.zip}``: a colleague's shared model becomes the pretrained encoder of a new recipe."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from builder.errors import ExportError, GraphError

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def shared_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny 1-channel U-Net (depth 2, strides 2 and 4) written as a Cellwright bundle."""
    import keras

    from builder.blocks.context import ModelContext
    from builder.compile import compile_graph
    from builder.export.bundle import write_bundle
    from builder.export.metadata import ExportMetadata
    from builder.templates import get_template

    keras.utils.set_random_seed(5)
    ctx = ModelContext(task="segmentation", input_shape=(32, 32, 1), n_classes=2)
    model = compile_graph(get_template("unet").expand({"depth": 2, "base_filters": 4}, ctx), ctx)
    metadata = ExportMetadata(
        name="colleague nuclei", task="segmentation", channel_names=["DAPI"], class_names=["bg", "nucleus"],
        test_input=np.random.default_rng(0).random((1, 32, 32, 1)).astype(np.float32),
        recipe={"name": "colleague", "task": "segmentation"},
    )
    path = tmp_path_factory.mktemp("colleague") / "shared.zip"
    write_bundle(model, metadata, path)
    return path


def _recipe(folder: Path, backbone: dict, *, channels: int = 1) -> Path:
    recipe = {
        "cellwright": 1, "name": "fine-tune", "task": "segmentation",
        "data": {"root": "data", "layout": "folders", "masks": "masks", "channels": [f"c{i}" for i in range(channels)],
                 "classes": ["background", "nucleus", "boundary"]},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 4, "backbone": backbone}},
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def _compile(recipe_path: Path, channels: int = 1):
    from builder.compile import compile_recipe_model
    from builder.recipe import load_recipe

    return compile_recipe_model(load_recipe(recipe_path), (32, 32, channels))


def _shared_encoder_weights(shared_zip: Path) -> dict[str, list[np.ndarray]]:
    from builder.model_files.reuse import load_shared_model

    shared = load_shared_model(shared_zip, run_test=False)
    return {name: shared.get_layer(name).get_weights() for name in ("enc0", "enc1", "bottleneck")}


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# -- recipe level (no TensorFlow) ----------------------------------------------------------------------------
def test_from_validates_round_trips_and_is_in_the_schema(tmp_path: Path):
    from builder.backbones.params import BackboneParams
    from builder.recipe import load_recipe
    from builder.recipe.load import dump_recipe
    from builder.recipe.schema import Recipe

    recipe = load_recipe(_recipe(tmp_path, {"from": "shared.zip", "freeze": "all"}))
    backbone = recipe.model.params["backbone"]
    assert backbone["from"] == "shared.zip" and backbone["name"] is None and backbone["channel_mode"] == "match"
    text = dump_recipe(recipe)
    assert "from: shared.zip" in text and "from_" not in text
    (tmp_path / "again.yaml").write_text(text)
    assert load_recipe(tmp_path / "again.yaml").model.params == recipe.model.params
    params = BackboneParams.model_validate({"from": "x.zip"})
    assert params.from_ == "x.zip" and BackboneParams.model_validate(params.model_dump()) == params
    assert "from" in BackboneParams.model_json_schema()["properties"]
    assert '"from"' in json.dumps(Recipe.model_json_schema())


@pytest.mark.parametrize(("data", "message"), [
    ({"from": "x.zip", "name": "resnet50"}, "either `name`.*or `from`.*not both"),
    ({"name": None}, "give `name`.*or `from`"),
    ({"channel_mode": "match"}, "'match' is for shared models"),
    ({"from": " "}, "Expected the path of a shared model"),
])
def test_name_and_from_must_not_clash(data: dict, message: str):
    from pydantic import ValidationError

    from builder.backbones.params import BackboneParams

    with pytest.raises(ValidationError, match=message):
        BackboneParams.model_validate(data)


def test_static_facts_need_no_tensorflow(shared_zip: Path):
    code = (
        "import sys; from builder.backbones.shared import shared_facts; "
        f"f = shared_facts({str(shared_zip)!r}); "
        "print(f.in_channels, f.strides, f.taps[2][0], f.taps[4][0], 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "(2,", "4)", "enc1", "bottleneck", "False"]


# -- building and training ------------------------------------------------------------------------------------
def test_encoder_weights_come_from_the_shared_model(shared_zip: Path):
    model = _compile(_recipe(shared_zip.parent, {"from": "shared.zip"}))
    encoder = model.get_layer("encoder")
    expected = _shared_encoder_weights(shared_zip)
    for name, weights in expected.items():
        assert _same(encoder.get_layer(name).get_weights(), weights), name
    assert "dec1" not in [layer.name for layer in encoder.layers]  # the colleague's decoder is not reused
    assert model.output.shape[-1] == 3
    from builder.backbones.freeze import find_backbones

    assert [b.name for b in find_backbones(model)] == ["encoder"]


def _fit(model, policy: str) -> None:
    import keras

    from builder.backbones.freeze import make_freeze_callback

    rng = np.random.default_rng(1)
    x = rng.random((4, 32, 32, 1)).astype(np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 3, (4, 32, 32)), 3)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="categorical_crossentropy")
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[make_freeze_callback(policy)])


@pytest.mark.parametrize("policy", ["all", "none"])
def test_freeze_policy_applies_to_the_shared_encoder(shared_zip: Path, policy: str):
    model = _compile(_recipe(shared_zip.parent, {"from": "shared.zip", "freeze": policy}))
    head_before = model.get_layer("head").get_weights()
    _fit(model, policy)
    encoder = model.get_layer("encoder")
    unchanged = [_same(encoder.get_layer(n).get_weights(), w) for n, w in _shared_encoder_weights(shared_zip).items()]
    assert all(unchanged) if policy == "all" else not any(unchanged)
    assert not _same(model.get_layer("head").get_weights(), head_before)  # the new decoder/head learns


def test_tampered_bundle_is_refused(shared_zip: Path, tmp_path: Path):
    bad = tmp_path / "shared.zip"
    with zipfile.ZipFile(shared_zip) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data + b"# edited\n" if info.filename == "recipe.yaml" else data)
    with pytest.raises(ExportError, match="Checksum mismatch: recipe.yaml was changed"):
        _compile(_recipe(tmp_path, {"from": "shared.zip"}))


def test_wrong_channel_count_is_a_clear_error(shared_zip: Path):
    from builder.compile import check_graph, expand_model, model_context
    from builder.recipe import load_recipe

    recipe = load_recipe(_recipe(shared_zip.parent, {"from": "shared.zip"}, channels=2))
    ctx = model_context(recipe, (32, 32, 2))
    with pytest.raises(GraphError, match="takes 1-channel images but this recipe gives 2") as error:
        check_graph(expand_model(recipe, ctx), ctx)
    assert "channel_mode: repeat" in error.value.fix
    model = _compile(_recipe(shared_zip.parent, {"from": "shared.zip", "channel_mode": "repeat"}, channels=2), 2)
    assert tuple(model.output.shape) == (None, None, None, 3)


def test_missing_shared_file_names_the_node(tmp_path: Path):
    with pytest.raises(GraphError, match="does not exist"):
        _compile(_recipe(tmp_path, {"from": "nope.zip"}))


@pytest.mark.slow
def test_train_recipe_fine_tunes_from_a_bundle(shared_zip: Path, tmp_path: Path):
    import shutil

    from builder.model_files.safe_import import load_keras_safely
    from builder.workflow.train_job import train_recipe
    from tests.builder.workflow.train_fixtures import tiny_recipe

    path = tiny_recipe(tmp_path, "segmentation")
    shutil.copyfile(shared_zip, tmp_path / "shared.zip")
    recipe = yaml.safe_load(path.read_text())
    recipe["model"]["params"]["backbone"] = {"from": "shared.zip", "freeze": "all"}
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    outcome = train_recipe(path, runs_dir=tmp_path / "runs")
    trained = load_keras_safely(outcome.run_dir / "checkpoints" / "last.keras").get_layer("encoder")
    for name, weights in _shared_encoder_weights(shared_zip).items():
        assert _same(trained.get_layer(name).get_weights(), weights), name

"""The Keras weights cache: where, list, import (atomic, validated, no silent overwrite), CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.backbones.catalog import BACKBONES
from builder.cli.main import main
from builder.errors import WeightsError

MOBILENET = BACKBONES["mobilenet_v2"].weights_file
SMALL = BACKBONES["mobilenet_v3_small"].weights_file


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def _write(model, path: Path) -> Path:
    """Legacy .h5 weights layout (the one keras.applications publishes)."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        for layer in model.layers:
            weights = layer.trainable_weights + layer.non_trainable_weights
            group = f.create_group(layer.name)
            group.attrs["weight_names"] = [f"w{i}".encode() for i in range(len(weights))]
            for i, weight in enumerate(weights):
                group.create_dataset(f"w{i}", data=weight.numpy())
    return path


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory) -> Path:
    """A folder with random MobileNetV2 and MobileNetV3Small weights under their Keras names, and junk."""
    import keras

    folder = tmp_path_factory.mktemp("weights")
    _write(keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3)),
           folder / MOBILENET)
    _write(keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3)),
           folder / SMALL)
    (folder / "notes.txt").write_text("not weights")
    return folder


def test_where_and_list_follow_keras_home(keras_home, capsys):
    assert main(["weights", "where"]) == 0
    assert capsys.readouterr().out.strip() == str(keras_home / "models")
    assert main(["weights", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    rows = {row["name"]: row for row in listing["backbones"]}
    assert set(rows) == set(BACKBONES)
    assert rows["mobilenet_v2"]["file"] == MOBILENET and rows["mobilenet_v2"]["present"] is False


def test_import_file_then_list_shows_it(keras_home, source_dir, capsys):
    from builder.backbones.weights import import_weights

    [result] = import_weights(source_dir / MOBILENET)
    target = keras_home / "models" / MOBILENET
    assert result.action == "copied" and target.read_bytes() == (source_dir / MOBILENET).read_bytes()
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".partial")]
    assert import_weights(source_dir / MOBILENET)[0].action == "already present"
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "mobilenet_v2" in out and "present" in out.split("mobilenet_v2", 1)[1].splitlines()[0]


def test_import_refuses_different_file_without_force(keras_home, source_dir, tmp_path, capsys):
    target = keras_home / "models" / MOBILENET
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    assert main(["weights", "import", str(source_dir / MOBILENET)]) == 2
    assert "--force" in capsys.readouterr().err and target.read_bytes() == b"old"
    assert main(["weights", "import", str(source_dir / MOBILENET), "--force"]) == 0
    assert target.read_bytes() == (source_dir / MOBILENET).read_bytes()


def test_import_folder_and_hash_check(keras_home, source_dir):
    from builder.backbones.weights import import_weights

    with pytest.raises(WeightsError, match="not the official"):  # Keras checks a hash for this file
        import_weights(source_dir)
    assert not (keras_home / "models" / MOBILENET).exists()  # all files are checked before any copy
    results = {Path(r.source).name: r for r in import_weights(source_dir, force=True)}
    assert results[MOBILENET].action == "copied" and results[SMALL].action == "copied"
    assert "differs from the official" in results[SMALL].note
    assert (keras_home / "models" / SMALL).is_file() and "notes.txt" not in results


def test_import_rejects_unknown_names_and_invalid_files(keras_home, source_dir, tmp_path):
    from builder.backbones.weights import import_weights

    renamed = tmp_path / "mobilenet.h5"
    renamed.write_bytes((source_dir / MOBILENET).read_bytes())
    with pytest.raises(WeightsError, match="not the weights file of a known backbone"):
        import_weights(renamed)
    fake = tmp_path / MOBILENET
    fake.write_text("not hdf5")
    with pytest.raises(WeightsError, match="not a readable HDF5"):
        import_weights(fake)
    wrong = tmp_path / "other" / MOBILENET
    wrong.parent.mkdir()
    wrong.write_bytes((source_dir / SMALL).read_bytes())  # MobileNetV3 weights under MobileNetV2's name
    with pytest.raises(WeightsError, match="does not hold the weights of backbone 'mobilenet_v2'"):
        import_weights(wrong)
    assert not (keras_home / "models" / MOBILENET).exists()


def test_fetch_unknown_name_is_a_user_error(keras_home, capsys):
    assert main(["weights", "fetch", "mobilenet"]) == 2
    assert "Did you mean 'mobilenet_v2'" in capsys.readouterr().err

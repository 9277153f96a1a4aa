"""The offline weights round trip of the installer, with weights files the tests make (no network).

``install.sh --download-only DIR --weights NAME`` runs ``cellwright weights fetch NAME`` with
``KERAS_HOME=DIR/weights`` (:func:`installer.install.fetch_weights`); ``install.sh --from DIR`` later runs
``cellwright weights import DIR/weights/models --force`` (:func:`installer.install.import_offline_weights`).
The real CLI runs in subprocesses, started through a ``cellwright`` launcher script like a venv's entry point.
The download comes from a local folder through ``CELLWRIGHT_WEIGHTS_ORIGIN`` (Keras's ``get_file`` reads it as a
``file://`` URL, with the same hash check as for the public URL). MobileNetV2's file has no hash in Keras, so
random weights under its exact cache name are accepted; MobileNetV3Small's is hash-checked and must be refused.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from builder.backbones.catalog import BACKBONES
from installer import install
from installer.steps import InstallError, Steps, clean_env

ROOT = Path(__file__).resolve().parents[2]
MOBILENET = BACKBONES["mobilenet_v2"].weights_file
HASHED = BACKBONES["mobilenet_v3_small"]


def _write_launcher(path: Path) -> Path:
    """A ``cellwright`` script running this checkout's CLI (the installer strips PYTHONPATH from its env)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nPYTHONPATH='{ROOT}' exec '{sys.executable}' -m builder.cli.main \"$@\"\n")
    path.chmod(0o755)
    return path


def _steps() -> Steps:
    steps = Steps(1, stream=io.StringIO())
    steps.start("Pretrained weights")
    return steps


@pytest.fixture(scope="module")
def mobilenet_file(tmp_path_factory) -> tuple[Path, dict[str, list[np.ndarray]]]:
    """Random MobileNetV2 (no top) weights in the legacy .h5 layout, under the exact Keras cache name.

    Returns the file and the weights of every layer, by layer name, to compare a loaded model against.
    """
    import h5py
    import keras

    model = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    rng = np.random.default_rng(7)
    for weight in model.weights:  # differ from any fresh random init
        weight.assign(weight.numpy() + rng.normal(0, 0.01, weight.shape).astype("float32"))
    path = tmp_path_factory.mktemp("mirror") / MOBILENET
    expected = {}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        for layer in model.layers:
            weights = [w.numpy() for w in layer.trainable_weights + layer.non_trainable_weights]
            group = f.create_group(layer.name)
            group.attrs["weight_names"] = [f"w{i}".encode() for i in range(len(weights))]
            for i, value in enumerate(weights):
                group.create_dataset(f"w{i}", data=value)
            if weights:
                expected[layer.name] = weights
    return path, expected


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An 'installed' Cellwright in the default prefix of a private HOME: ``.../venv/bin/cellwright``."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("CELLWRIGHT_WEIGHTS_ORIGIN", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "offline_computer_keras"))
    return _write_launcher(install.venv_cellwright(install.default_prefix() / "venv"))


def _cli(launcher: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(launcher), *args], capture_output=True, text=True, env=clean_env(), check=False)


def _import_and_check(offline: Path, launcher: Path, source: Path, expected: dict) -> None:
    """The ``--from`` half: import into ``$KERAS_HOME``, list shows it, ``weights: imagenet`` loads it exactly."""
    from builder.backbones.weights import cache_dir

    steps = _steps()
    install.import_offline_weights(offline, launcher, steps)
    assert "imported the weights in" in steps.stream.getvalue()
    cached = cache_dir() / MOBILENET
    assert cached == Path(os.environ["KERAS_HOME"]) / "models" / MOBILENET
    assert cached.read_bytes() == source.read_bytes()

    listed = _cli(launcher, "weights", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)["backbones"]}
    assert rows["mobilenet_v2"]["present"] is True and rows["mobilenet_v2"]["path"] == str(cached)
    assert rows["mobilenet_v3_small"]["present"] is False

    import keras

    from builder.backbones.build import build_encoder

    inputs = keras.Input((32, 32, 1))
    model = keras.Model(inputs, build_encoder("mobilenet_v2", inputs, weights="imagenet", name_prefix="enc"))
    loaded = model.get_layer("enc")
    compared = 0
    for name, values in expected.items():
        for ours, theirs in zip(loaded.get_layer(name).weights, values, strict=True):
            np.testing.assert_array_equal(ours.numpy(), theirs, err_msg=name)
            compared += 1
    assert compared == sum(len(v) for v in expected.values()) > 100


def test_from_folder_imports_weights_that_imagenet_backbones_load(tmp_path, installed, mobilenet_file):
    """``--from DIR``: DIR/weights/models/<Keras file name> ends up in the new cache and is what gets loaded."""
    source, expected = mobilenet_file
    offline = tmp_path / "offline_folder"
    models = install.offline_weights_dir(offline)
    models.mkdir(parents=True)
    (models / MOBILENET).write_bytes(source.read_bytes())
    _import_and_check(offline, installed, source, expected)


def test_from_folder_without_weights_imports_nothing(tmp_path, installed):
    steps = _steps()
    install.import_offline_weights(tmp_path / "offline_folder", installed, steps)
    assert "none to import" in steps.stream.getvalue()
    assert not (Path(os.environ["KERAS_HOME"]) / "models").exists()


@pytest.mark.parametrize("as_url", [False, True], ids=["origin-folder", "origin-file-url"])
def test_download_only_fetches_where_from_imports(tmp_path, installed, mobilenet_file, monkeypatch, as_url):
    """``--download-only DIR --weights mobilenet_v2`` then ``--from DIR`` on another computer: same weights."""
    source, expected = mobilenet_file
    monkeypatch.setenv("CELLWRIGHT_WEIGHTS_ORIGIN", source.parent.as_uri() if as_url else str(source.parent))
    offline = tmp_path / "offline_folder"
    steps = _steps()
    install.fetch_weights(["mobilenet_v2"], offline, steps)
    fetched = install.offline_weights_dir(offline) / MOBILENET
    assert fetched.read_bytes() == source.read_bytes()
    assert "mobilenet_v2" in steps.stream.getvalue()

    monkeypatch.delenv("CELLWRIGHT_WEIGHTS_ORIGIN")  # the offline computer has no source but the folder
    _import_and_check(offline, installed, source, expected)


def test_download_only_refuses_a_file_that_fails_the_keras_hash(tmp_path, installed, monkeypatch):
    """A hash-checked file that differs from the official one is refused, named, and not left in the folder."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / HASHED.weights_file).write_bytes(b"not the official MobileNetV3Small weights")
    monkeypatch.setenv("CELLWRIGHT_WEIGHTS_ORIGIN", str(mirror))
    offline = tmp_path / "offline_folder"
    with pytest.raises(InstallError) as caught:
        install.fetch_weights(["mobilenet_v3_small"], offline, _steps())
    text = str(caught.value) + caught.value.cause + caught.value.fix
    assert "hash does not match" in text and HASHED.weights_file in text
    assert f"cellwright weights fetch {HASHED.name}" in text
    assert not (install.offline_weights_dir(offline) / HASHED.weights_file).exists()
    assert list(install.offline_weights_dir(offline).iterdir()) == []  # nothing for --from to import


def test_download_only_with_an_unreachable_origin_names_the_url(tmp_path, installed, monkeypatch):
    monkeypatch.setenv("CELLWRIGHT_WEIGHTS_ORIGIN", str(tmp_path / "no_mirror"))
    with pytest.raises(InstallError) as caught:
        install.fetch_weights(["mobilenet_v2"], tmp_path / "offline_folder", _steps())
    assert (tmp_path / "no_mirror" / MOBILENET).as_uri() in caught.value.cause


def test_download_only_without_an_installed_cellwright_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty_bin"))
    with pytest.raises(InstallError, match="needs Cellwright installed"):
        install.fetch_weights(["mobilenet_v2"], tmp_path / "offline_folder", _steps())

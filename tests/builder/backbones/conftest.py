"""Fixtures for backbone tests: a private Keras cache and a writer for legacy ``.h5`` weights files."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``$KERAS_HOME`` for this test (Cellwright reads the variable at call time)."""
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def weights_files():
    """Helpers writing weights files: ``.legacy(model, path)`` and ``.random(constructor, path, seed)``."""

    class _Writers:
        legacy = staticmethod(write_legacy_weights)
        random = staticmethod(random_backbone_file)

    return _Writers


def write_legacy_weights(model, path: Path) -> Path:
    """Write ``model``'s weights in the legacy Keras ``.h5`` layout that ``keras.applications`` publishes."""
    import h5py
    import keras

    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = keras.__version__.encode()
        for layer in model.layers:
            group = f.create_group(layer.name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            names = [f"w{i}" for i in range(len(weights))]
            group.attrs["weight_names"] = [n.encode() for n in names]
            for name, weight in zip(names, weights, strict=True):
                group.create_dataset(name, data=weight.numpy())
    return Path(path)


def random_backbone_file(constructor: str, path: Path, seed: int = 0):
    """Build ``keras.applications.<constructor>`` (no top) with random weights, save them to ``path``.

    Returns the model; every weight is perturbed with the seed so it differs from a fresh random init.
    """
    import keras
    import numpy as np

    model = getattr(keras.applications, constructor)(include_top=False, weights=None, input_shape=(64, 64, 3))
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        value = weight.numpy()
        weight.assign(value + rng.normal(0, 0.01, value.shape).astype(value.dtype))
    write_legacy_weights(model, path)
    return model

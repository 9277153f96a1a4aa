"""Tiny real Keras models and metadata shared by the export tests (built once per session)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest


def percentile_normalised(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A random image normalised the way Cellwright does by default (1 / 99.8 percentiles per channel)."""
    raw = np.random.default_rng(seed).gamma(2.0, 100.0, size=shape)
    lo = np.percentile(raw, 1.0, axis=(1, 2), keepdims=True)
    hi = np.percentile(raw, 99.8, axis=(1, 2), keepdims=True)
    return ((raw - lo) / (hi - lo)).astype(np.float32)


@pytest.fixture(scope="session")
def seg_model():
    """Two-layer fully-convolutional net: (B, Y, X, 2 channels) -> (B, Y, X, 3) softmax."""
    import keras

    keras.utils.set_random_seed(1)
    inp = keras.Input((None, None, 2), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    out = keras.layers.Conv2D(3, 1, activation="softmax")(x)
    return keras.Model(inp, out, name="tiny_seg")


@pytest.fixture(scope="session")
def cls_model():
    """Classifier with a dense head: (B, 16, 16, 1) -> (B, 3) softmax."""
    import keras

    keras.utils.set_random_seed(2)
    inp = keras.Input((16, 16, 1), name="crop")
    x = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inp, out, name="tiny_cls")


@pytest.fixture
def seg_metadata():
    from builder.export.metadata import ExportMetadata

    return ExportMetadata(
        name="tiny nuclei", description="Test segmentation model.", task="segmentation",
        channel_names=["DAPI", "GFP-1"], class_names=["background", "boundary", "interior"], pixel_size=0.65,
        postprocess={"threshold": 0.5, "min_size": 10}, authors=[{"name": "Ada Lovelace", "affiliation": "Lab"}],
        citations=[{"text": "Doe et al. 2020", "doi": "10.1038/s41592-020-01018-x"}, {"text": "No DOI here"}],
        documentation="# Tiny nuclei\n\nFor tests only.\n", test_input=percentile_normalised((1, 32, 32, 2)),
        recipe={"name": "tiny", "task": "segmentation"}, size_multiple=1,
    )


@pytest.fixture
def cls_metadata():
    from builder.export.metadata import ExportMetadata, Normalization

    fixed = Normalization(method="fixed", min=[100.0], max=[4000.0])
    rng = np.random.default_rng(3)
    return ExportMetadata(
        name="tiny cells", task="classification", channel_names=["brightfield"],
        class_names=["G1", "S", "mitosis"], normalization=fixed, test_input=rng.random((2, 16, 16, 1)),
        recipe={"name": "cells", "task": "classification"},
    )


@pytest.fixture
def offline(monkeypatch):
    """Refuse every internet connection, so 'validates offline' is really checked."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"network access attempted during an offline test: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def seg_bundle(tmp_path_factory, seg_model) -> Path:
    """A bundle written once; tests copy and tamper with it."""
    from builder.export.bundle import write_bundle
    from builder.export.metadata import ExportMetadata

    metadata = ExportMetadata(name="shared seg", task="segmentation", channel_names=["a", "b"],
                              test_input=percentile_normalised((1, 16, 16, 2), seed=5), recipe={"name": "shared"})
    path = tmp_path_factory.mktemp("bundle") / "shared.cellwright.zip"
    write_bundle(seg_model, metadata, path)
    return path

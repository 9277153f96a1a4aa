"""Tampered or unsafe archives are refused, with a message that says why, before anything runs."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from builder.errors import ExportError


def _rewrite(src, dst, change=None, extra=None):
    """Copy a zip, optionally changing one member's bytes or adding raw entries."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if change and info.filename == change[0]:
                data = change[1](data)
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def test_untouched_bundle_opens(tmp_path, seg_bundle):
    from builder.model_files.shared import open_shared

    shared = open_shared(seg_bundle, tmp_path / "x")
    assert shared.kind == "bundle" and shared.checks[0].max_abs_diff <= 1e-6


def test_changed_byte_is_refused(tmp_path, seg_bundle):
    from builder.model_files.shared import open_shared

    flip = lambda data: data[:-1] + bytes([data[-1] ^ 1])  # noqa: E731
    _rewrite(seg_bundle, tmp_path / "t.zip", change=("test_output.npy", flip))
    with pytest.raises(ExportError, match=r"Checksum mismatch: test_output.npy was changed"):
        open_shared(tmp_path / "t.zip", tmp_path / "x")


def test_added_file_is_refused(tmp_path, seg_bundle):
    from builder.model_files.shared import open_shared

    _rewrite(seg_bundle, tmp_path / "t.zip", extra={"evil.py": b"import os"})
    with pytest.raises(ExportError, match=r"not listed in the manifest were added: evil.py"):
        open_shared(tmp_path / "t.zip", tmp_path / "x")


@pytest.mark.parametrize("entry", ["../escaped.txt", "sub/../../escaped.txt", "/tmp/escaped.txt"])
def test_path_traversal_is_refused_before_extracting(tmp_path, seg_bundle, entry):
    from builder.model_files.shared import open_shared

    _rewrite(seg_bundle, tmp_path / "t.zip", extra={entry: b"x"})
    with pytest.raises(ExportError, match="zip-slip"):
        open_shared(tmp_path / "t.zip", tmp_path / "out" / "x")
    assert not (tmp_path / "out").exists()  # nothing was extracted at all
    assert not (tmp_path / "escaped.txt").exists()


def _lambda_model():
    import keras

    inp = keras.Input((8, 8, 1))
    return keras.Model(inp, keras.layers.Lambda(lambda t: t * 2.0)(inp))


def test_lambda_model_is_refused(tmp_path):
    from builder.model_files.safe_import import load_keras_safely

    _lambda_model().save(tmp_path / "lam.keras")
    with pytest.raises(ExportError, match=r"Lambda layer .*Python code") as info:
        load_keras_safely(tmp_path / "lam.keras")
    assert "refuses models containing Python code" in info.value.fix


def test_bundle_with_lambda_model_is_refused(tmp_path, seg_bundle):
    """A bundle whose model was swapped for a Lambda model, manifest recomputed (a careful attacker)."""
    from builder.export._files import sha256_file
    from builder.model_files.shared import open_shared

    folder = tmp_path / "b"
    with zipfile.ZipFile(seg_bundle) as archive:
        archive.extractall(folder)
    _lambda_model().save(folder / "model.keras")
    names = sorted(p.name for p in folder.iterdir() if p.name != "MANIFEST.sha256")
    (folder / "MANIFEST.sha256").write_text("".join(f"{sha256_file(folder / n)}  {n}\n" for n in names))
    with pytest.raises(ExportError, match="Lambda layer"):
        open_shared(folder, tmp_path / "unused")


def test_pickled_arrays_are_never_loaded(tmp_path):
    from builder.model_files.safe_import import load_array

    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ExportError, match="never unpickles"):
        load_array(tmp_path / "obj.npy")

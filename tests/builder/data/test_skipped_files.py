"""Entries the data doctor used to skip without a word: dangling links and microscope formats it cannot read."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from builder.data.doctor import check_dataset, check_folder
from tests.builder.data.data_helpers import make_recipe, write_seg_folder


def _seg(**data):
    return make_recipe(data={"masks": "masks", **data}, preprocess={"patch": {"size": 16}})


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_dangling_link_in_images_is_an_error(tmp_path):
    write_seg_folder(tmp_path, 4)
    (tmp_path / "images" / "gone.tif").symlink_to(tmp_path / "elsewhere" / "gone.tif")
    problems = check_dataset(_seg(), tmp_path)
    hits = [p for p in problems if p.where.endswith("gone.tif")]
    assert len(hits) == 1 and hits[0].severity == "error", [p.format() for p in problems]
    assert "does not exist" in hits[0].what and "elsewhere" in hits[0].what and hits[0].fix

    skipped = check_dataset(_seg(skip_unreadable=True), tmp_path)
    assert [p.severity for p in skipped if p.where.endswith("gone.tif")] == ["warning"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_check_cli_counts_a_dangling_mask_link_as_an_error(tmp_path):
    write_seg_folder(tmp_path, 4)
    (tmp_path / "masks" / "extra.tif").symlink_to(tmp_path / "nowhere.tif")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-m", "builder.cli.main", "check", str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "extra.tif" in proc.stdout and "1 error," in proc.stdout
    assert "Traceback" not in proc.stderr


def test_microscope_files_are_named_with_what_would_read_them(tmp_path):
    write_seg_folder(tmp_path, 4)
    for name in ("scan1.czi", "scan2.CZI", "stack.nd2"):
        (tmp_path / "images" / name).write_bytes(b"not really")
    problems = check_dataset(_seg(), tmp_path)
    czi = [p for p in problems if "Zeiss CZI" in p.what]
    nd2 = [p for p in problems if "Nikon ND2" in p.what]
    assert len(czi) == 1 and len(nd2) == 1, [p.format() for p in problems]
    assert "2 Zeiss CZI file(s)" in czi[0].what and "scan1.czi" in czi[0].what and "scan2.CZI" in czi[0].what
    assert "cellwright[formats]" in czi[0].fix and "bioio" in czi[0].fix and "OME-TIFF" in czi[0].fix


def test_folder_of_only_czi_files_says_why_the_training_set_is_empty(tmp_path):
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in range(3):
        (tmp_path / "images" / f"well{i}.czi").write_bytes(b"CZI")
    problems = check_folder(tmp_path)
    assert any("training set is empty" in p.what for p in problems)
    assert any("3 Zeiss CZI file(s)" in p.what and "well0.czi" in p.what for p in problems), \
        [p.format() for p in problems]


def test_class_folders_of_lif_files_are_named(tmp_path):
    for cls in ("healthy", "infected"):
        (tmp_path / cls).mkdir()
        (tmp_path / cls / f"{cls}.lif").write_bytes(b"LIF")
    problems = check_folder(tmp_path)
    assert any("Leica LIF" in p.what and "healthy.lif" in p.what for p in problems), [p.format() for p in problems]

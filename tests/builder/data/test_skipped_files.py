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


# Olympus and Imaris files: formats that no reader of Cellwright (nor its optional extra) takes.
def test_microscope_files_are_named_with_what_would_read_them(tmp_path):
    write_seg_folder(tmp_path, 4)
    for name in ("scan1.oib", "scan2.OIB", "stack.vsi"):
        (tmp_path / "images" / name).write_bytes(b"not really")
    problems = check_dataset(_seg(), tmp_path)
    oib = [p for p in problems if "Olympus OIB" in p.what]
    vsi = [p for p in problems if "Olympus VSI" in p.what]
    assert len(oib) == 1 and len(vsi) == 1, [p.format() for p in problems]
    assert "2 Olympus OIB file(s)" in oib[0].what and "scan1.oib" in oib[0].what and "scan2.OIB" in oib[0].what
    assert "cellwright[formats]" in oib[0].fix and "OME-TIFF" in oib[0].fix


def test_folder_of_only_imaris_files_says_why_the_training_set_is_empty(tmp_path):
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in range(3):
        (tmp_path / "images" / f"well{i}.ims").write_bytes(b"IMS")
    problems = check_folder(tmp_path)
    assert any("training set is empty" in p.what for p in problems)
    assert any("3 Imaris file(s)" in p.what and "well0.ims" in p.what for p in problems), \
        [p.format() for p in problems]


def test_class_folders_of_oir_files_are_named(tmp_path):
    for cls in ("healthy", "infected"):
        (tmp_path / cls).mkdir()
        (tmp_path / cls / f"{cls}.oir").write_bytes(b"OIR")
    problems = check_folder(tmp_path)
    assert any("Olympus OIR" in p.what and "healthy.oir" in p.what for p in problems), [p.format() for p in problems]

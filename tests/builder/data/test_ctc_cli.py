"""Cell Tracking Challenge reader, and the `check` / `preview-augment` commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from builder.cli.main import main
from builder.data.ctc import read_ctc_sequence, read_man_track
from builder.errors import DataError
from tests.builder.data.data_helpers import write_seg_folder


def _ctc(root):
    (root / "01").mkdir(parents=True)
    (root / "01_GT" / "TRA").mkdir(parents=True)
    (root / "01_GT" / "SEG").mkdir(parents=True)
    for t in range(3):
        labels = np.zeros((16, 16), np.uint16)
        labels[2 + t:6 + t, 2:6] = 1
        if t == 2:
            labels[10:13, 10:13] = 2  # daughter appears
        tifffile.imwrite(root / "01" / f"t{t:03d}.tif", (labels > 0).astype(np.uint16) * 100 + t)
        tifffile.imwrite(root / "01_GT" / "TRA" / f"man_track{t:03d}.tif", labels)
    tifffile.imwrite(root / "01_GT" / "SEG" / "man_seg001.tif", np.ones((16, 16), np.uint16))
    (root / "01_GT" / "TRA" / "man_track.txt").write_text("1 0 2 0\n2 2 2 1\n")


def test_ctc_sequence(tmp_path):
    _ctc(tmp_path)
    seq = read_ctc_sequence(tmp_path, "01")
    assert seq.frames.shape == (3, 16, 16, 1) and seq.frame_numbers == [0, 1, 2]
    assert seq.parent_of() == {1: 0, 2: 1}
    assert seq.tra.shape == (3, 16, 16) and seq.tra[2].max() == 2 and seq.tra[0, 2, 2] == 1
    assert list(seq.seg) == [1]
    (tmp_path / "bad.txt").write_text("1 5 2 0\n")
    with pytest.raises(DataError, match="ends"):
        read_man_track(tmp_path / "bad.txt")


def test_check_command_on_folder_and_recipe(tmp_path, capsys):
    write_seg_folder(tmp_path / "data", 4)
    assert main(["check", str(tmp_path / "data")]) == 0
    assert "0 errors" in capsys.readouterr().out
    (tmp_path / "data" / "masks" / "img1.tif").unlink()
    recipe = tmp_path / "r.yaml"
    recipe.write_text("cellwright: 1\nname: t\ntask: segmentation\ndata:\n  root: data\n  masks: masks\n"
                      "preprocess:\n  patch: {size: 16}\n")
    assert main(["check", str(recipe), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert any("image without a mask" in p["what"] and p["where"].endswith("img1.tif") for p in report["problems"])


def test_preview_augment_writes_png(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    write_seg_folder(tmp_path / "data", 3)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("cellwright: 1\nname: t\ntask: instance_segmentation\ndata:\n  root: data\n  masks: masks\n"
                      "preprocess:\n  patch: {size: 16}\naugment:\n  rotate: 30\n")
    out = tmp_path / "grid.png"
    assert main(["preview-augment", str(recipe), "--out", str(out), "--rows", "2", "--columns", "2"]) == 0
    from PIL import Image

    with Image.open(out) as img:
        assert img.size[0] > 200 and img.size[1] > 150

"""Dataset discovery and seeded splits (stratified for classification, whole images otherwise)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from builder.data.layouts import discover, random_split, sample_key
from builder.errors import DataError
from tests.builder.data.data_helpers import make_recipe, write_seg_folder, write_seg_pair


def test_sample_key_pairs_mask_suffixes(tmp_path):
    assert sample_key(tmp_path / "A1.ome.tif") == "a1"
    assert sample_key(tmp_path / "a1_mask.png") == "a1"


def test_folders_random_split_is_seeded_and_by_whole_image(tmp_path):
    write_seg_folder(tmp_path, 10)
    recipe = make_recipe(data={"masks": "masks", "split": {"validation": 0.2, "test": 0.2, "seed": 3}})
    a, b = discover(recipe, tmp_path), discover(recipe, tmp_path)
    names = {k: [s.image_path.name for s in v] for k, v in a.splits.items()}
    assert names == {k: [s.image_path.name for s in v] for k, v in b.splits.items()}
    assert [len(names[k]) for k in ("train", "validation", "test")] == [6, 2, 2]
    assert all(s.mask_path.name == s.image_path.name for _, s in a.samples())
    other = discover(make_recipe(data={"masks": "masks", "split": {"validation": 0.2, "test": 0.2, "seed": 4}}),
                     tmp_path)
    assert {k: [s.image_path.name for s in v] for k, v in other.splits.items()} != names


def test_groups_never_cross_splits():
    from pathlib import Path

    from builder.data.layouts import Sample

    samples = [Sample(Path(f"g{g}_{i}.tif"), group=f"g{g}") for g in range(8) for i in range(3)]
    splits = random_split(samples, 0.25, 0.25, seed=1)
    where = {s.group: k for k, v in splits.items() for s in v}
    for k, v in splits.items():
        assert all(where[s.group] == k for s in v)
    assert sum(len(v) for v in splits.values()) == 24


def test_class_folders_stratified(tmp_path):
    for cls, n in (("a", 20), ("b", 10)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            tifffile.imwrite(tmp_path / cls / f"{i}.tif", np.full((8, 8), i, np.uint8))
    ds = discover(make_recipe("classification", data={"layout": "class_folders",
                                                     "split": {"validation": 0.2, "test": 0.1}}), tmp_path)
    assert ds.classes == ["a", "b"]
    counts = {k: {c: sum(s.label == c for s in v) for c in "ab"} for k, v in ds.splits.items()}
    assert counts["validation"] == {"a": 4, "b": 2} and counts["test"] == {"a": 2, "b": 1}


def test_fixed_split_folders_and_manifest(tmp_path):
    for split, n in (("train", 3), ("validation", 1)):
        for i in range(n):
            write_seg_pair(tmp_path / split, f"{split}{i}", seed=i)
    ds = discover(make_recipe(data={"masks": "masks", "split": {"mode": "folders"}}), tmp_path)
    assert [len(ds.splits[k]) for k in ("train", "validation", "test")] == [3, 1, 0]
    assert any("no test folder" in p.what for p in ds.problems)
    (tmp_path / "list.csv").write_text("image,mask,split\ntrain/images/train0.tif,train/masks/train0.tif,val\n"
                                       "train/images/train1.tif,train/masks/train1.tif,train\n")
    ds = discover(make_recipe(data={"layout": "manifest", "manifest": "list.csv"}), tmp_path)
    assert [s.image_path.name for s in ds.splits["validation"]] == ["train0.tif"]
    assert ds.splits["train"][0].mask_path.name == "train1.tif"


def test_paired_noisy_only_ctc_and_missing_folders(tmp_path):
    for sub in ("source", "target"):
        (tmp_path / sub).mkdir()
        tifffile.imwrite(tmp_path / sub / "x.tif", np.zeros((8, 8), np.uint8))
    ds = discover(make_recipe("image_to_image", data={"layout": "paired", "split": {"validation": 0, "test": 0}}),
                  tmp_path)
    assert ds.splits["train"][0].target_path.parent.name == "target"
    for seq in ("01", "02"):
        (tmp_path / seq).mkdir()
        for t in range(2):
            tifffile.imwrite(tmp_path / seq / f"t{t:03d}.tif", np.zeros((8, 8), np.uint8))
    (tmp_path / "01_GT").mkdir()
    ds = discover(make_recipe("tracking", data={"layout": "ctc", "split": {"validation": 0, "test": 0}}), tmp_path)
    assert sorted(s.group for s in ds.splits["train"]) == ["01", "01", "02", "02"]
    with pytest.raises(DataError, match="folder not found"):
        discover(make_recipe(data={"masks": "labels"}), tmp_path)


def test_ctc_frames_are_split_by_time_with_seg_masks_for_training_and_markers_for_testing(tmp_path):
    for sub in ("01", "01_GT/SEG", "01_GT/TRA"):
        (tmp_path / sub).mkdir(parents=True)
    for t in range(10):
        tifffile.imwrite(tmp_path / "01" / f"t{t:03d}.tif", np.zeros((8, 8), np.uint8))
        tifffile.imwrite(tmp_path / "01_GT" / "TRA" / f"man_track{t:03d}.tif", np.zeros((8, 8), np.uint16))
        if t % 2 == 0:
            tifffile.imwrite(tmp_path / "01_GT" / "SEG" / f"man_seg{t:03d}.tif", np.zeros((8, 8), np.uint16))
    ds = discover(make_recipe("tracking", data={"layout": "ctc", "split": {"validation": 0.1, "test": 0.3}}),
                  tmp_path)
    names = {k: [s.image_path.name for s in v] for k, v in ds.splits.items()}
    assert names["test"] == ["t007.tif", "t008.tif", "t009.tif"] and names["validation"] == ["t006.tif"]
    masks = {s.image_path.name: s.mask_path.name for _, s in ds.samples()}
    assert masks["t000.tif"] == "man_seg000.tif" and masks["t001.tif"] == "man_track001.tif"
    assert masks["t008.tif"] == "man_track008.tif"  # test frames are scored on the TRA markers

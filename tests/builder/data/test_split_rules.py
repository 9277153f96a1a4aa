"""Split rules that gave wrong or silent results on real data: groups across labels, partial split columns, a
validation set carved from train/ in folders mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from builder.data.layouts import Sample, discover, random_split
from builder.errors import DataError
from tests.builder.data.data_helpers import make_recipe, write_seg_pair


def test_stratified_split_keeps_each_group_in_one_split():
    # Cell tracks: every track (group) holds crops of several mitotic phases (labels).
    rng = np.random.default_rng(0)
    samples = [Sample(Path(f"track{t}_{i}.tif"), label=str(rng.integers(0, 4)), group=f"track{t}")
               for t in range(40) for i in range(6)]
    splits = random_split(samples, 0.2, 0.2, seed=5, stratify=True)
    homes: dict[str, set[str]] = {}
    for name, members in splits.items():
        for s in members:
            homes.setdefault(s.group, set()).add(name)
    assert all(len(h) == 1 for h in homes.values()), "a track landed in two splits"
    assert sum(len(v) for v in splits.values()) == len(samples)
    assert all(splits[k] for k in ("train", "validation", "test"))


def test_stratified_split_still_balances_single_label_groups():
    samples = [Sample(Path(f"{c}{i}.tif"), label=c) for c, n in (("a", 30), ("b", 10)) for i in range(n)]
    splits = random_split(samples, 0.2, 0.1, seed=0, stratify=True)
    counts = {k: {c: sum(s.label == c for s in v) for c in "ab"} for k, v in splits.items()}
    assert counts["validation"] == {"a": 6, "b": 2} and counts["test"] == {"a": 3, "b": 1}


def _classification_manifest(root: Path, rows: list[tuple[str, str, str, str]]) -> None:
    lines = ["path,label,group,split"]
    for name, label, group, split in rows:
        tifffile.imwrite(root / name, np.full((8, 8), len(lines), np.uint8))
        lines.append(f"{name},{label},{group},{split}")
    (root / "list.csv").write_text("\n".join(lines) + "\n")


def test_partial_split_column_keeps_test_rows_out_of_training(tmp_path):
    rows = [(f"c{i}.tif", "ab"[i % 2], f"g{i}", "test" if i < 4 else "") for i in range(24)]
    _classification_manifest(tmp_path, rows)
    recipe = make_recipe("classification", data={"layout": "manifest", "manifest": "list.csv",
                                                   "split": {"validation": 0.2, "test": 0.2}})
    ds = discover(recipe, tmp_path)
    names = {k: {s.image_path.name for s in v} for k, v in ds.splits.items()}
    assert names["test"] == {f"c{i}.tif" for i in range(4)}  # exactly the marked rows: no random test draw
    assert names["validation"] and not names["validation"] & names["test"]
    assert len(names["train"]) + len(names["validation"]) == 20
    assert any("filled for 4 of 24 rows" in p.what for p in ds.problems)


def test_partial_split_column_refuses_a_group_split_in_two(tmp_path):
    rows = [("a.tif", "x", "track1", "test"), ("b.tif", "x", "track1", ""), ("c.tif", "y", "track2", "")]
    _classification_manifest(tmp_path, rows)
    recipe = make_recipe("classification", data={"layout": "manifest", "manifest": "list.csv"})
    with pytest.raises(DataError, match="rows with and without a split"):
        discover(recipe, tmp_path)


def test_folders_mode_carves_validation_from_train(tmp_path):
    for i in range(10):
        write_seg_pair(tmp_path / "train", f"tr{i}", seed=i)
    for i in range(2):
        write_seg_pair(tmp_path / "test", f"te{i}", seed=20 + i)
    recipe = make_recipe(data={"masks": "masks", "split": {"mode": "folders", "validation": 0.2}})
    ds = discover(recipe, tmp_path)
    assert [len(ds.splits[k]) for k in ("train", "validation", "test")] == [8, 2, 2]
    assert {s.image_path.parent.parent.name for s in ds.splits["validation"]} == {"train"}
    assert any("kept for validation" in p.what for p in ds.problems)
    assert not any("no validation folder" in p.what for p in ds.problems)
    none = discover(make_recipe(data={"masks": "masks", "split": {"mode": "folders", "validation": 0.0}}), tmp_path)
    assert len(none.splits["validation"]) == 0 and any("no validation folder" in p.what for p in none.problems)

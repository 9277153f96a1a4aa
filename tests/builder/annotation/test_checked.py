"""annotation_status.csv: proposed annotations stay out of training, guard images go to the test split."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.annotation.checked import mark, read_status, status_path
from builder.data.layouts import discover
from builder.errors import DataError
from builder.recipe import load_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe


def test_mark_and_read_round_trip(tmp_path: Path):
    mark(tmp_path, ["a/one.tif", "two.tif"], "proposed", by="run-1")
    mark(tmp_path, ["one.tif"], "checked")
    rows = read_status(tmp_path)
    assert {n: (r.status, r.by) for n, r in rows.items()} == {"one.tif": ("checked", "user"),
                                                              "two.tif": ("proposed", "run-1")}
    assert status_path(tmp_path).read_text().splitlines()[0] == "image,status,by,updated"


def test_unknown_status_is_located(tmp_path: Path):
    status_path(tmp_path).write_text("image,status\nx.tif,done\n")
    with pytest.raises(DataError, match=r"annotation_status.csv:2: .*Received: status='done'"):
        read_status(tmp_path)
    with pytest.raises(DataError, match="Expected one of proposed, checked, guard"):
        mark(tmp_path, ["x.tif"], "approved")


def test_discover_leaves_proposed_out_and_moves_guard_to_test(tmp_path: Path):
    recipe = load_recipe(tiny_recipe(tmp_path, "segmentation", n_images=8))
    before = discover(recipe, recipe.base_dir)
    train = [Path(s.image_path).name for s in before.splits["train"]]
    mark(before.root, [train[0]], "proposed", by="run-1")
    mark(before.root, [train[1]], "guard")
    mark(before.root, [train[2]], "checked")
    after = discover(recipe, recipe.base_dir)
    names = {split: [Path(s.image_path).name for s in after.splits[split]] for split in after.splits}
    assert train[0] not in sum(names.values(), [])
    assert train[1] in names["test"] and train[1] not in names["train"]
    assert train[2] in names["train"]
    assert any("proposed annotation nobody checked" in p.what for p in after.problems)

"""Correct, don't redraw, end to end on tiny real runs: propose -> check -> retrain on checked only -> guard,
version records and the report section."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from builder.active_learning.retrain import retrain
from builder.annotation.checked import mark, read_status
from builder.annotation.propose import propose_annotations
from builder.cli.main import main
from builder.data.demo import make_demo
from builder.errors import WeightsError
from builder.workflow.train_job import train_recipe
from tests.builder.workflow.train_fixtures import tiny_recipe

pytestmark = pytest.mark.slow


def _new_crops(tmp_path: Path) -> list[Path]:
    """Six unlabelled cell crops (two per class) in one flat folder, named unlike the training crops."""
    demo = make_demo("cells", tmp_path / "new_demo", n_images=2, size=32, seed=7)
    flat = tmp_path / "unlabelled"
    flat.mkdir()
    for image in sorted(demo.glob("*/*.png")) + sorted(demo.glob("*/*.tif")):
        shutil.copy2(image, flat / f"new_{image.parent.name}_{image.name}")
    return sorted(flat.iterdir())


def _names(split: dict, splits=("train", "validation", "test")) -> set[str]:
    return {Path(n).name for s in splits for n in split[s]}


def test_propose_check_retrain_uses_checked_only_and_records_versions(tmp_path: Path, capsys):
    recipe = tiny_recipe(tmp_path, "classification", n_images=4)
    parent = train_recipe(recipe, runs_dir=tmp_path / "runs").run_dir
    data = tmp_path / "data"
    crops = _new_crops(tmp_path)
    assert crops, "the cells demo wrote no crops"

    summary = propose_annotations(parent, [tmp_path / "unlabelled"])
    assert len(summary["proposed"]) == len(crops) and not summary["kept"]
    status = read_status(data)
    assert {n for n, r in status.items() if r.status == "proposed"} == {p.name for p in crops}
    for row in summary["proposed"]:  # each crop now sits in the class folder the model chose
        assert Path(row["annotation"]) == data / row["class"] / row["image"]

    checked, unchecked = [p.name for p in crops[:3]], [p.name for p in crops[3:]]
    assert main(["annotations", "check", str(data), *checked]) == 0
    again = propose_annotations(parent, [tmp_path / "unlabelled"])  # a checked annotation is never overwritten
    assert sorted(r["image"] for r in again["kept"]) == sorted(str(tmp_path / "unlabelled" / n) for n in checked)

    result = retrain(parent, epochs=1)
    child = Path(result["run"])
    split = json.loads((child / "split.json").read_text())
    used = _names(split)
    assert set(checked) <= used and not set(unchecked) & used  # fine-tuned on checked images only
    parent_split = json.loads((parent / "split.json").read_text())
    assert _names(parent_split, ("test",)) <= _names(split, ("test",))  # the guard images are never trained on
    assert not _names(parent_split, ("test",)) & _names(split, ("train", "validation"))

    record = json.loads((child / "annotations.json").read_text())
    assert record["n_annotations"] == len(_names(split, ("train", "validation")))
    assert record["n_checked"] == len(set(checked) & _names(split, ("train", "validation")))
    assert record["n_proposed_left_out"] == len(unchecked) and len(record["sha256"]) == 64
    assert json.loads((parent / "annotations.json").read_text())["sha256"] != record["sha256"]
    version = json.loads((child / "model_version.json").read_text())
    decision = version["decision"]
    assert decision["n_images"] == len(_names(parent_split, ("test",)))
    assert decision["winner"] == ("new" if decision["new"] >= decision["current"] else "current")
    with (data / "model_versions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["run"] for r in rows] == [str(parent), str(child)]
    assert rows[1]["n_annotations"] == str(record["n_annotations"])
    assert result["current"] == (str(child) if decision["accepted"] else str(parent))

    from builder.report.build import build_report

    html = build_report(child)[0].read_text()
    assert "Annotations and model versions" in html and f"Trained on {record['n_annotations']} annotated" in html
    assert "Winner:" in html

    assert main(["suggest", str(parent), str(tmp_path / "unlabelled"), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "Annotate next" in out and "uncertainty" in out
    with (data / "annotate_next.csv").open() as handle:
        ranked = list(csv.DictReader(handle))
    assert sorted(Path(r["image"]).name for r in ranked) == sorted(p.name for p in crops)
    scores = [float(r["score"]) for r in ranked]
    assert scores == sorted(scores, reverse=True)


def test_fine_tuning_starts_from_the_parent_weights(tmp_path: Path):
    import keras

    from builder.compile import compile_recipe_model
    from builder.recipe import load_recipe
    from builder.run_folder import RunFolder
    from builder.workflow.init_weights import copy_weights

    path = tiny_recipe(tmp_path, "segmentation", n_images=6)
    parent = RunFolder(train_recipe(path, runs_dir=tmp_path / "runs", evaluate=False).run_dir)
    fresh = compile_recipe_model(load_recipe(path), (32, 32, 1), n_classes=2, n_outputs=None)
    trained = keras.saving.load_model(parent.best_checkpoint, compile=False)
    assert not all(np.allclose(a, b) for a, b in zip(fresh.get_weights(), trained.get_weights(), strict=True))
    copy_weights(parent.best_checkpoint, fresh)
    assert all(np.allclose(a, b) for a, b in zip(fresh.get_weights(), trained.get_weights(), strict=True))
    other = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Conv2D(3, 3)])
    with pytest.raises(WeightsError, match="Expected the same architecture. Received:"):
        copy_weights(parent.best_checkpoint, other)


def test_segmentation_proposals_are_label_tiffs_left_out_until_checked(tmp_path: Path):
    import tifffile

    from builder.data.layouts import discover
    from builder.recipe import load_recipe

    path = tiny_recipe(tmp_path, "instance_segmentation", n_images=6)
    run = train_recipe(path, runs_dir=tmp_path / "runs", evaluate=False).run_dir
    new = make_demo("nuclei", tmp_path / "new", n_images=2, size=48, seed=9)
    data = tmp_path / "data"
    clash = propose_annotations(run, [new / "images"])  # same names as the training images: never copied over
    assert not clash["proposed"] and all("same name" in row["why"] for row in clash["kept"])
    for image in sorted((new / "images").iterdir()):
        image.rename(image.with_name(f"new_{image.name}"))
    summary = propose_annotations(run, [new / "images"])
    assert len(summary["proposed"]) == 2
    for row in summary["proposed"]:
        labels = tifffile.imread(row["annotation"])
        assert labels.shape == (48, 48) and labels.dtype in (np.uint16, np.uint32)
        assert (data / "images" / row["image"]).is_file()
    recipe = load_recipe(path)
    names = {Path(s.image_path).name for _, s in discover(recipe, recipe.base_dir).samples()}
    proposed = [row["image"] for row in summary["proposed"]]
    assert not set(proposed) & names
    mark(data, proposed[:1], "checked")
    names = {Path(s.image_path).name for _, s in discover(recipe, recipe.base_dir).samples()}
    assert proposed[0] in names and proposed[1] not in names

    out = tmp_path / "next.csv"
    assert main(["suggest", str(run), "--region", "24", "--out", str(out)]) == 0  # default: the proposed image
    with out.open() as handle:
        ranked = list(csv.DictReader(handle))
    assert {(r["y"], r["x"], r["size"]) for r in ranked} == {(y, x, "24") for y in ("0", "24") for x in ("0", "24")}
    assert {Path(r["image"]).name for r in ranked} == {proposed[1]}

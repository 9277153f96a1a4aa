"""End to end with the U-Net's ``grid: 2`` and star-convex instances: a tiny model trains on images of bright
disks, predicts new images at their full size with the disks where they are, and its bundle and BioImage.IO
package predict the same labels. Real TIFF files, a real Keras model, ONNX Runtime."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from builder.cli.main import main
from builder.workflow.train_job import train_recipe

pytest.importorskip("keras")

SHAPE = (64, 64)


def disk_image(rng: np.random.Generator, shape: tuple[int, int] = SHAPE, n: int = 5
               ) -> tuple[np.ndarray, np.ndarray]:
    """A uint16 image of ``n`` bright, separate disks (radius 5-8 px) on a dark noisy background, and its labels."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.uint16)
    placed: list[tuple[float, float, float]] = []
    while len(placed) < n:
        r = rng.uniform(5, 8)
        cy, cx = rng.uniform(r + 1, shape[0] - r - 1), rng.uniform(r + 1, shape[1] - r - 1)
        if all(np.hypot(cy - y, cx - x) > r + s + 2 for y, x, s in placed):
            placed.append((cy, cx, r))
            labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = len(placed)
    image = 100 + 800 * (labels > 0) + rng.normal(0, 30, shape)
    return np.clip(image, 0, 65535).astype(np.uint16), labels


def _write_data(root: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    for i in range(n):
        image, labels = disk_image(rng)
        tifffile.imwrite(root / "images" / f"d{i}.tif", image)
        tifffile.imwrite(root / "masks" / f"d{i}.tif", labels)


def _centres(labels: np.ndarray) -> np.ndarray:
    ids = [i for i in np.unique(labels) if i]
    return np.array([np.argwhere(labels == i).mean(axis=0) for i in ids])


@pytest.mark.slow
def test_grid_star_model_trains_predicts_disks_at_full_size_and_its_bundle_agrees(tmp_path: Path):
    _write_data(tmp_path / "data", 10)
    recipe = {
        "cellwright": 1, "name": "grid-star", "task": "instance_segmentation",
        "data": {"root": str(tmp_path / "data"), "layout": "folders", "masks": "masks",
                 "split": {"mode": "random", "validation": 0.2, "test": 0.2, "seed": 0}},
        "preprocess": {"patch": {"size": 32, "per_image": 4}, "tile": {"size": 64, "overlap": 16}},
        "augment": {"flip": True, "rotate90": True},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 8, "grid": 2}},
        "train": {"epochs": 30, "batch_size": 8, "seed": 3, "optimizer": {"learning_rate": 0.003},
                  "instance_target": "star_convex", "early_stopping": {"enabled": False}},
        "report": {"enabled": False},
        "export": {"formats": ["bundle", "bioimageio"]},
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    outcome = train_recipe(path, runs_dir=tmp_path / "runs")
    run = outcome.run_dir
    saved = yaml.safe_load((run / "recipe.yaml").read_text())
    assert saved["model"]["params"]["grid"] == 2
    assert np.isfinite(json.loads((run / "metrics.json").read_text())["headline"]["value"])

    # a new image, not a multiple of the network's factor 8, with disks at known places
    image, truth = disk_image(np.random.default_rng(99), (70, 90), n=6)
    tifffile.imwrite(tmp_path / "new.tif", image)
    exports = {e["format"]: e for e in outcome.exports}
    zoo = exports["bioimageio"]
    assert max(c["max_abs_diff"] for c in zoo["checks"]) < 1e-4  # the package reproduces the network
    with zipfile.ZipFile(zoo["path"]) as archive:
        rdf = yaml.safe_load(archive.read("rdf.yaml"))
    assert {a["id"]: a["size"]["step"] for a in rdf["inputs"][0]["axes"][1:3]} == {"y": 8, "x": 8}  # 2^2 * 2
    labels = {}
    for source, out in ((run, "from_run"), (Path(exports["bundle"]["path"]), "from_bundle"),
                        (Path(zoo["path"]), "from_zoo")):
        assert main(["predict", str(source), str(tmp_path / "new.tif"), "--out", str(tmp_path / out)]) == 0
        labels[out] = tifffile.imread(tmp_path / out / "new_labels.tif")
    found = labels["from_run"]
    assert found.shape == truth.shape  # the image's own size
    assert len(np.unique(found)) - 1 == 6
    # every disk found where it is: each predicted centre within 1.5 px of a true one, one to one
    distance = np.linalg.norm(_centres(found)[:, None] - _centres(truth)[None], axis=-1)
    assert (distance.min(axis=1) < 1.5).all() and len(set(distance.argmin(axis=1))) == 6
    np.testing.assert_array_equal(labels["from_bundle"], found)
    np.testing.assert_array_equal(labels["from_zoo"], found)
    with zipfile.ZipFile(exports["bundle"]["path"]) as archive:
        assert yaml.safe_load(archive.read("recipe.yaml"))["model"]["params"]["grid"] == 2

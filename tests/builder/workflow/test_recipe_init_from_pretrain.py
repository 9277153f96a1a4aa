"""``train.init_from`` (fine-tune from a run) and the ``pretrain:`` section that ``cellwright train`` runs first."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from builder.data.demo import make_demo
from tests.builder.workflow.train_fixtures import tiny_recipe

pytestmark = pytest.mark.slow


def _edit(path: Path, change) -> Path:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _problems(path: Path, key: str) -> list:
    """The problems ``cellwright validate`` reports for ``key``."""
    from builder.recipe import validate_file

    return [p for p in validate_file(path)[1] if p.key == key]


def _kernels(model) -> list[np.ndarray]:
    return [w.numpy() for w in model.weights if w.path.endswith("kernel")]


@pytest.fixture(scope="module")
def parent(tmp_path_factory) -> Path:
    """A tiny trained classification run (the model to fine-tune from)."""
    from builder.workflow.train_job import train_recipe

    tmp = tmp_path_factory.mktemp("parent")
    return train_recipe(tiny_recipe(tmp, "classification"), runs_dir=tmp / "runs", report=False,
                        export=False).run_dir


def test_validate_names_a_missing_model_and_one_that_does_not_fit(tmp_path: Path, parent: Path):
    path = _edit(tiny_recipe(tmp_path, "classification"),
                 lambda d: d["train"].update(init_from="runs/not-there"))
    problems = _problems(path, "train.init_from")
    assert len(problems) == 1 and "not found" in problems[0].what
    assert str(tmp_path / "runs" / "not-there") in problems[0].format()

    def other_model(data: dict) -> None:
        data["train"]["init_from"] = str(parent)
        data["model"]["params"]["base_filters"] = 8

    problems = _problems(_edit(path, other_model), "train.init_from")
    assert len(problems) == 1 and "does not fit" in problems[0].what
    assert "another model: section" in problems[0].format() and problems[0].fix


def test_training_starts_from_the_run_and_the_methods_say_so(tmp_path: Path, parent: Path):
    from builder.model_files.safe_import import load_keras_safely
    from builder.report.methods import methods_text
    from builder.report.run_data import load_run
    from builder.workflow.train_job import train_recipe

    def fine_tune(data: dict) -> None:
        data["train"]["init_from"] = str(parent)
        data["train"]["optimizer"] = {"learning_rate": 1e-9}  # the weights barely move from where they start
        data["data"]["root"] = str(parent.parent.parent / "data")

    path = _edit(tiny_recipe(tmp_path, "classification"), fine_tune)
    assert not _problems(path, "train.init_from")  # same model: fits
    child = train_recipe(path, runs_dir=tmp_path / "runs", report=False, export=False).run_dir
    before = _kernels(load_keras_safely(parent / "checkpoints" / "best.keras"))
    after = _kernels(load_keras_safely(child / "checkpoints" / "last.keras"))
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(before, after, strict=True))  # not a random start
    text, _ = methods_text(load_run(child))
    assert f"fine-tuned from {parent.name}" in text
    (tmp_path / "scratch").mkdir()
    scratch = train_recipe(tiny_recipe(tmp_path / "scratch", "classification"), runs_dir=tmp_path / "runs2",
                           report=False, export=False).run_dir
    assert "fine-tuned from" not in methods_text(load_run(scratch))[0]


def _pretrain_recipe(tmp_path: Path) -> Path:
    make_demo("cells", tmp_path / "unlabelled", n_images=4, size=32, seed=5)

    def pretrain(data: dict) -> None:
        data["pretrain"] = {"images": "unlabelled", "out": "enc.keras", "size": 32, "fit": "resize", "epochs": 1,
                            "depth": 2, "base_filters": 4, "mask_patch": 4, "time_budget": "10m"}
        data["model"]["params"]["backbone"] = {"from": "enc.keras"}

    return _edit(tiny_recipe(tmp_path, "classification"), pretrain)


def test_a_pretrain_section_the_model_does_not_use_is_named(tmp_path: Path):
    path = _edit(_pretrain_recipe(tmp_path), lambda d: d["model"]["params"].pop("backbone"))
    problems = _problems(path, "pretrain.out")
    assert len(problems) == 1 and "backbone: {from: enc.keras}" in problems[0].fix


def test_train_runs_pretrain_first_only_when_the_encoder_is_missing_or_outdated(tmp_path: Path):
    from builder.workflow.train_job import train_recipe

    path = _pretrain_recipe(tmp_path)
    encoder = tmp_path / "enc.keras"

    def train() -> list[str]:
        events: list[dict] = []
        train_recipe(path, runs_dir=tmp_path / "runs", events=events.append, report=False, export=False)
        return [str(e.get("message", "")) for e in events if e["event"] == "log"]

    logs = train()
    assert any("Pre-training the encoder first (enc.keras does not exist yet)" in m for m in logs)
    assert encoder.is_file() and (tmp_path / "enc.pretrain.json").is_file()
    made = encoder.stat().st_mtime_ns
    logs = train()
    assert any("enc.keras is up to date" in m for m in logs) and encoder.stat().st_mtime_ns == made
    new = sorted((tmp_path / "unlabelled").rglob("*.tif"))[0]
    os.utime(new, ns=(made + 10**9, made + 10**9))  # an image changed after the encoder was made
    logs = train()
    assert any("images in" in m and "changed since enc.keras was made" in m for m in logs)
    assert encoder.stat().st_mtime_ns != made

"""Pseudo-labels: only images at or above the threshold join training; the recipe key is checked and named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from builder.data.demo import make_demo
from builder.recipe import validate_text
from builder.workflow.pseudo_labels import select_confident
from tests.builder.workflow.train_fixtures import tiny_recipe

_BASE = """cellwright: 1
name: t
task: {task}
data: {{layout: class_folders, root: data}}
model: {{template: {template}}}
train:
  pseudo_labels: {pseudo}
"""


def _problems(pseudo: str, task: str = "classification", template: str = "classifier") -> list:
    _, problems = validate_text(_BASE.format(task=task, template=template, pseudo=pseudo))
    return [p for p in problems if p.severity == "error"]


def test_only_images_at_or_above_the_threshold_are_used():
    paths = [Path(f"{name}.tif") for name in "abcde"]
    probabilities = np.array([[0.95, 0.05], [0.90, 0.10], [0.89, 0.11], [0.20, 0.80], [0.03, 0.97]])
    chosen = select_confident(paths, probabilities, ["dead", "alive"], threshold=0.9)
    assert [(c.path, c.label) for c in chosen] == [("a.tif", "dead"), ("b.tif", "dead"), ("e.tif", "alive")]
    assert select_confident(paths, probabilities, ["dead", "alive"], threshold=0.96) == chosen[2:]


def test_probabilities_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"\(n_images, n_classes\) = \(2, 2\).*Received: probabilities.shape=\(2, 3\)"):
        select_confident([Path("a"), Path("b")], np.ones((2, 3)) / 3, ["x", "y"], 0.5)


def test_threshold_out_of_range_names_the_key():
    problems = _problems("{images: unlabelled, threshold: 1.5}")
    assert [p.key for p in problems] == ["train.pseudo_labels.threshold"]
    assert "1.5" in problems[0].format()


def test_missing_images_and_misspelt_key_are_named():
    keys = {p.key for p in _problems("{treshold: 0.9}")}
    assert "train.pseudo_labels.images" in keys
    assert "train.pseudo_labels.treshold" in keys


def test_pseudo_labels_outside_classification_name_the_key():
    problems = _problems("{images: unlabelled}", task="segmentation", template="unet")
    assert any(p.key == "train.pseudo_labels" and "classification" in p.what for p in problems)


def _run(tmp_path: Path, threshold: float) -> tuple[dict, list[dict]]:
    from builder.workflow.train_job import train_recipe

    make_demo("cells", tmp_path / "unlabelled", n_images=6, size=32, seed=9)
    path = tiny_recipe(tmp_path, "classification", epochs=1,
                       extra_train={"pseudo_labels": {"images": "unlabelled", "threshold": threshold}})
    events: list[dict] = []
    outcome = train_recipe(path, runs_dir=tmp_path / "runs", events=events.append, report=False, export=False)
    return json.loads((outcome.run_dir / "pseudo_labels.json").read_text()), events


def test_a_threshold_every_image_reaches_adds_them_all_and_trains_again(tmp_path: Path):
    record, events = _run(tmp_path, threshold=0.3)  # three classes: the top probability is always >= 1/3
    n_unlabelled = len([p for p in (tmp_path / "unlabelled").rglob("*") if p.is_file() and p.suffix == ".tif"])
    assert record["n_unlabelled"] == n_unlabelled > 0
    assert record["n_used"] == n_unlabelled
    assert all(row["probability"] >= 1 / 3 for row in record["used"])
    assert record["images"] == str(tmp_path / "unlabelled")
    assert sum(1 for e in events if e["event"] == "start") == 2  # round 1 (teacher) and round 2
    assert record["teacher"]["epochs_completed"] == 1


def test_a_threshold_no_image_reaches_keeps_the_first_model(tmp_path: Path):
    record, events = _run(tmp_path, threshold=0.999999)
    assert record["n_used"] == 0 and record["used"] == []
    assert any(e["event"] == "warning" and e["where"] == "train.pseudo_labels.threshold" for e in events)
    assert sum(1 for e in events if e["event"] == "start") == 1


def test_a_kill_between_the_two_rounds_resumes_with_round_2(tmp_path: Path):
    """SIGKILL after the pseudo-labels are written, before round 2: the resumed run trains round 2 (it used to
    take the finished teacher's state for the final model and skip round 2)."""
    import os
    import signal
    import subprocess
    import sys

    from builder.workflow.train_job import train_recipe

    make_demo("cells", tmp_path / "unlabelled", n_images=6, size=32, seed=9)
    recipe = tiny_recipe(tmp_path, "classification", epochs=1,
                         extra_train={"pseudo_labels": {"images": "unlabelled", "threshold": 0.3}})
    child = Path(__file__).with_name("pseudo_kill_child.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[3]),
                                                         os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(child), str(recipe), str(tmp_path / "runs")],
                               stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = ""
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("BETWEEN-ROUNDS"):
                break
        assert line.startswith("BETWEEN-ROUNDS"), "the child ended before the pseudo-labels were written"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    run_dir = Path(line.split(" ", 1)[1].strip())
    record = json.loads((run_dir / "pseudo_labels.json").read_text())
    assert record["n_used"] > 0
    assert json.loads((run_dir / "state.json").read_text())["epoch"] == 1  # the finished teacher's state

    events: list[dict] = []
    outcome = train_recipe(recipe, resume=run_dir, events=events.append, report=False, export=False)
    assert [e for e in events if e["event"] == "start"], "round 2 was skipped: no training started on resume"
    assert not any("Training had finished" in str(e.get("message", "")) for e in events)
    assert outcome.epochs_completed == 1
    assert json.loads((run_dir / "pseudo_labels.json").read_text())["round_2"] == "started"

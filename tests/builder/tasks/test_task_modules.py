"""A task is one module: the rest of Cellwright asks the task object and never names a task itself."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from builder.recipe.load import load_recipe
from builder.report.content import resolved_loss
from builder.report.methods import methods_text
from builder.report.run_data import RunData
from builder.tasks import Task, all_tasks, get_task, register_task, task_names
from builder.tasks.base import _REGISTRY

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "recipes" / "examples"

#: Files outside builder/tasks/ that may name tasks: the demo-data table says which task each demo kind suits.
ALLOWED = {"builder/data/demo_kinds.py"}


def _task_literals(path: Path, names: set[str], root: Path = REPO) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(root).as_posix()}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names]


def test_no_task_name_literal_outside_the_task_modules():
    names = set(task_names())
    found = []
    for package in ("builder", "gui"):
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel.startswith("builder/tasks/") or rel in ALLOWED:
                continue
            found += _task_literals(path, names)
    assert not found, "Task names belong in builder/tasks/<task>.py; ask the task object instead:\n" + "\n".join(found)


def test_the_literal_check_finds_a_task_name(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('if recipe.task == "segmentation":\n    pass\nx = f"{a} segmentation"\n', encoding="utf-8")
    assert _task_literals(probe, set(task_names()), tmp_path) == ["probe.py:1: 'segmentation'"]


def _recipe(name: str, **train: Any) -> Any:
    recipe = load_recipe(EXAMPLES / name)
    return recipe.model_copy(update={"train": recipe.train.model_copy(update=train)}) if train else recipe


@pytest.mark.parametrize(("example", "train", "expected"), [
    ("denoise_n2v.yaml", {}, "mse"),  # the report used to say mae
    ("denoise.yaml", {}, "mae"),
    ("nuclei_instances.yaml", {"instance_target": "distance"}, "mse"),  # the report used to say cross_entropy+dice
    ("nuclei_instances.yaml", {"instance_target": "three_class"}, "cross_entropy+dice"),
    ("nuclei_instances.yaml", {}, "star"),
    ("nuclei_semantic.yaml", {}, "cross_entropy+dice"),
    ("cell_classes.yaml", {}, "cross_entropy"),
])
def test_the_report_names_the_loss_training_uses(tmp_path, example, train, expected):
    recipe = _recipe(example, loss="auto", **train)
    task = get_task(recipe.task)
    trained = task.make_loss(recipe.train.loss, variant=task.variant(recipe), n_classes=2)
    assert trained.name.removeprefix("masked_") == expected.replace("+", "_")
    run = RunData(tmp_path, recipe=recipe.model_dump(mode="json"))
    assert resolved_loss(run) == expected
    words = {"mse": "mean squared error", "mae": "mean absolute error"}
    text, _ = methods_text(run)
    if expected in words:
        other = ({"mse", "mae"} - {expected}).pop()
        assert words[expected] in text and words[other] not in text


def test_headline_is_the_metric_models_are_ranked_by():
    for task in all_tasks().values():
        if task.trainable:
            label, key = task.headline
            assert task.primary_metric == key
            assert any(key in keys for _, keys, _, _ in task.report_metrics), task.name
    instance = get_task("instance_segmentation")
    labels = np.zeros((8, 8), np.int32)
    labels[2:6, 2:6] = 1
    from builder.tasks.metrics import instance_metrics

    assert instance.flat_metrics(instance_metrics([labels], [labels]))[instance.primary_metric] == 1.0


class _Counting(Task):
    """A made-up task, registered the way a new task module would be."""

    name = "cell_counting"
    title = "Cell counting"
    description = "cell counting"
    card = ("Count cells", "One number per image.")
    output = "class_vector"
    head_block = "classification_head"
    layouts = ("manifest",)
    learns_from = "labels"
    headline = ("Mean absolute count error", "count_mae")
    losses: ClassVar = {"default": ("mse", ("mse", "mae"))}


@pytest.fixture
def counting_task():
    register_task(_Counting)
    yield get_task("cell_counting")
    _REGISTRY.pop("cell_counting", None)


def test_a_new_task_is_one_registered_class(counting_task):
    from builder.cli.main import build_parser
    from builder.templates import get_template

    assert "cell_counting" in task_names()
    assert get_template("classifier").supports(counting_task) and not get_template("unet").supports(counting_task)
    assert counting_task.default_loss() == "mse" and counting_task.primary_metric == "count_mae"
    parser = build_parser()
    args = parser.parse_args(["new", "--task", "cell_counting"])
    assert args.task == "cell_counting"

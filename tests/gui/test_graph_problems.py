"""The editor shows exactly the engine's graph problems: every template and task, FPN port references,
renames that keep port references, and the distance head's channel count (real widgets, offscreen)."""

from __future__ import annotations

import copy

import pytest

from builder.compile import expand_model, model_context
from builder.errors import CellwrightError
from builder.graph_checks import find_problems
from builder.recipe.schema import Recipe
from builder.templates import get_template
from gui.document import RecipeDocument
from gui.pages.editor import EditorPage
from gui.recipe_io import new_recipe

TASKS = [("classification", None), ("segmentation", None), ("instance_segmentation", "three_class"),
         ("instance_segmentation", "distance"), ("image_to_image", None)]
TEMPLATES = ["unet", "fpn", "classifier", "restoration"]
BACKBONE = {"name": "mobilenet_v2", "weights": "none"}
#: (template, params, task, instance_target, valid): every template x task, plus U-Net with a backbone.
CASES = [(t, {}, task, target, None) for t in TEMPLATES for task, target in TASKS] + [
    ("unet", {"backbone": BACKBONE}, task, target, True) for task, target in TASKS[1:]
]


def recipe_data(template: str, params: dict, task: str, target: str | None) -> dict:
    data = new_recipe(task, name="combo")
    data["model"] = {"template": template, **({"params": copy.deepcopy(params)} if params else {})}
    data["preprocess"] = {"patch": {"size": 64}}
    if target:
        data.setdefault("train", {})["instance_target"] = target
    return data


def open_editor(qtbot, data: dict) -> EditorPage:
    page = EditorPage(RecipeDocument(data))
    qtbot.addWidget(page)
    return page


def engine_result(data: dict) -> tuple[list[dict], str]:
    """What the engine (``cellwright build``'s path) reports: the expanded graph's problems, or why the template
    does not expand."""
    recipe = Recipe.model_validate(data)  # the schema only: unsupported template/task pairs are checked too
    ctx = model_context(recipe)
    try:
        nodes = expand_model(recipe, ctx)
    except CellwrightError as error:
        return [], error.format()
    return [p.to_dict() for p in find_problems(nodes, ctx, key_prefix="model.graph").problems], ""


@pytest.mark.parametrize(("template", "params", "task", "target", "valid"), CASES)
def test_editor_and_engine_report_the_same_problems(qtbot, template, params, task, target, valid):
    data = recipe_data(template, params, task, target)
    page = open_editor(qtbot, data)
    page.expand_template()
    expected, refusal = engine_result(data)
    if refusal:  # the template refuses this task: the editor says the engine's words and keeps the template
        assert page.doc.graph is None and page.message.text() == refusal
        assert task not in get_template(template).tasks()
        return
    editor = [p.to_dict() for p in page.scene.report.problems]
    assert page.doc.graph and editor == expected
    if valid or task in get_template(template).tasks():
        assert editor == []
        assert page.message.text() == ""
    marked = {node_id for node_id, item in page.scene.nodes.items() if item.problems}
    assert marked == {p["node"] for p in editor if p["node"]}


def test_fpn_port_references_are_not_errors(qtbot):
    page = open_editor(qtbot, recipe_data("fpn", {}, "segmentation", None))
    page.expand_template()
    refs = [ref for node in page.doc.graph for ref in node["inputs"] if "." in ref]
    assert refs, "the FPN template reads backbone ports such as encoder.s8"
    assert not any(item.problems for item in page.scene.nodes.values())
    assert "does not exist" not in page.message.text() and page.message.text() == ""
    edges = {edge.ref: edge for edge in page.scene.edges}
    for ref in refs:  # every port reference is drawn from its own output port, labelled with its shape
        edge = edges[ref]
        port = ref.split(".")[1]
        assert edge.source.output_ports[edge.source_slot].port.name == port
        assert edge.label.text().startswith("(B, ")


def test_rename_rewrites_port_references(qtbot):
    page = open_editor(qtbot, recipe_data("fpn", {}, "segmentation", None))
    page.expand_template()
    page.inspector.show_node("encoder")
    page.inspector._rename("encoder", "trunk")
    inputs = [ref for node in page.doc.graph for ref in node["inputs"]]
    assert not any(ref.split(".")[0] == "encoder" for ref in inputs)
    assert {"trunk.s8", "trunk.s32"} <= set(inputs)
    assert not any(item.problems for item in page.scene.nodes.values())
    page.doc.undo_stack.undo()
    assert "encoder.s8" in [ref for node in page.doc.graph for ref in node["inputs"]]


def test_distance_head_shows_two_channels(qtbot):
    page = open_editor(qtbot, recipe_data("unet", {"depth": 2, "base_filters": 4}, "instance_segmentation",
                                          "distance"))
    page.expand_template()
    head = page.scene.report.output
    assert page.scene.report.nodes[head].shape == (64, 64, 2)
    assert not page.scene.nodes[head].problems
    page.doc.set_value(("train", "instance_target"), "three_class")  # the head's target is "auto": it follows
    assert page.scene.report.nodes[head].shape == (64, 64, 3) and not page.scene.nodes[head].problems
    params = next(node for node in page.doc.graph if node["id"] == head)["params"]
    page.scene.set_node_params(head, {**params, "target": "distance"})
    problems = page.scene.nodes[head].problems
    assert len(problems) == 1 and "instance_segmentation expects 3 output channels" in problems[0]
    assert "gives (B, 64, 64, 2)" in page.message.text() and f"node '{head}'" in page.message.text()


def test_dragging_from_a_named_output_port_writes_a_port_reference(editor):
    scene = editor.scene
    source = scene.add_block("input", (0.0, 0.0))
    encoder = scene.add_block("backbone", (200.0, 0.0), params={"weights": "none"})
    conv = scene.add_block("conv2d", (400.0, 0.0))
    assert scene.connect_ports(scene.nodes[source].output_ports[0], scene.nodes[encoder].input_port(0)) is None
    s8 = scene.nodes[encoder].output_port("s8")
    assert scene.connect_ports(s8, scene.nodes[conv].input_port(0)) is None
    assert next(n for n in editor.doc.graph if n["id"] == conv)["inputs"] == [f"{encoder}.s8"]
    edge = next(e for e in scene.edges if e.target.node_id == conv)
    assert edge.source_slot == s8.slot and edge.label.text().startswith("(B, 16, 16, ")

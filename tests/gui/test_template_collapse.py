"""A template is one node; it expands into blocks and collapses back only while the blocks are unedited."""

from __future__ import annotations

import copy

import yaml

from gui.graph_editor.template_state import fingerprint, graph_changes, key_params


def _model(editor) -> dict:
    return yaml.safe_load(editor.yaml_view.editor.toPlainText())["model"]


def test_expand_collapse_round_trip_with_undo_redo(editor, qtbot):
    editor.doc.set_value(("model", "params"), {"depth": 2, "base_filters": 8})
    before = copy.deepcopy(editor.doc.data["model"])
    stack = editor.doc.undo_stack
    # double-clicking the template node expands it (the mouse path: the node asks the editor)
    editor.scene.pipeline.template.mouseDoubleClickEvent(None)
    graph = editor.doc.graph
    assert graph and "template" not in _model(editor) and "params" not in _model(editor)
    assert {"input", "enc0", "bottleneck"} <= set(editor.scene.nodes)
    assert editor.scene.pipeline.template is None
    assert editor.collapse_template()
    assert _model(editor) == before and editor.doc.graph is None
    assert editor.scene.pipeline.template.name == "unet"
    stack.undo()  # back to the expanded graph
    assert editor.doc.graph == graph
    stack.undo()  # back to the template
    assert editor.doc.data["model"] == before and editor.scene.nodes == {}
    stack.redo()
    stack.redo()
    assert editor.doc.data["model"] == before


def test_edited_graph_refuses_to_collapse_and_says_why(editor, qtbot):
    editor.expand_template()
    enc0 = next(node for node in editor.doc.graph if node["id"] == "enc0")
    editor.scene.set_node_params("enc0", {**enc0["params"], "filters": 12})
    editor.scene.clearSelection()
    editor.scene.nodes["pool1"].setSelected(True)
    editor.scene.delete_selected()
    edited = copy.deepcopy(editor.doc.graph)
    assert not editor.collapse_template()
    assert editor.doc.graph == edited  # nothing lost
    text = editor.message.text()
    assert "cannot collapse back into the 'unet' template" in text
    assert "'enc0': filters 32 → 12" in text and "removed block 'pool1'" in text
    assert editor.message.property("error") is True
    # undoing the edits makes the graph the template's expansion again: now it collapses
    editor.doc.undo_stack.undo()
    editor.doc.undo_stack.undo()
    assert editor.collapse_template()
    assert editor.doc.data["model"] == {"template": "unet"}


def test_hand_made_graph_has_no_template_to_collapse_into(editor):
    editor.scene.add_block("input")
    assert not editor.collapse_template()
    assert "not made by expanding a template" in editor.message.text()


def test_collapse_still_works_after_save_and_reopen(editor, tmp_path, qtbot):
    from gui.document import RecipeDocument
    from gui.pages.editor import EditorPage

    editor.expand_template()
    path = editor.doc.save(tmp_path / "r.yaml")
    assert "graph:" in path.read_text() and "template:" not in path.read_text()
    doc = RecipeDocument()
    doc.load(path)
    page = EditorPage(doc)
    qtbot.addWidget(page)
    assert page.collapse_template()
    assert doc.data["model"] == {"template": "unet"}


def test_fingerprint_and_changes_are_about_the_network_only():
    a = [{"id": "input", "block": "input", "params": {}, "inputs": []},
         {"id": "c", "block": "conv2d", "params": {"filters": 4, "groups": None}, "inputs": ["input"]}]
    b = [{"id": "c", "block": "conv2d", "params": {"filters": 4}, "inputs": ["input"]},
         {"id": "input", "block": "input", "inputs": []}]
    assert fingerprint(a) == fingerprint(b)  # order and null parameters do not matter
    assert graph_changes(a, b) == []
    c = copy.deepcopy(b)
    c[0]["params"]["filters"] = 8
    c[0]["inputs"] = []
    c.append({"id": "d", "block": "dense", "params": {}, "inputs": ["c"]})
    assert fingerprint(c) != fingerprint(a)
    assert graph_changes(a, c) == ["added block 'd'", "changed the connections into 'c'", "'c': filters 4 → 8"]
    schema = {"properties": {"depth": {"default": 3, "x-cellwright": {"commonly_used": True}},
                             "kernel": {"default": 3, "x-cellwright": {"commonly_used": False}},
                             "attention": {"default": False, "x-cellwright": {"commonly_used": True}}}}
    assert key_params({"kernel": 5}, schema) == ["kernel 5", "depth 3", "attention off"]

"""Build a small U-Net on the canvas through the same calls the mouse makes, then check the recipe."""

from __future__ import annotations

import re

import yaml
from PySide6.QtCore import QPointF


def _connect_by_ports(scene, source: str, target: str, slot: int = 0):
    """What releasing a drag from ``source``'s output port on ``target``'s input port does."""
    out_port = scene.nodes[source].output_ports[0]
    in_port = scene.nodes[target].input_port(slot)
    return scene.connect_ports(out_port, in_port)


def build_small_unet(editor) -> None:
    scene, view = editor.scene, editor.view
    for x, (name, block) in enumerate([
        ("input", "input"), ("enc", "conv2d"), ("pool", "max_pooling2d"), ("mid", "conv2d"),
        ("up", "upsampling2d"), ("skip", "concatenate"), ("dec", "conv2d"), ("head", "conv2d"),
    ]):
        new_id = view.drop_block(block, QPointF(x * 220.0, 0.0))
        if new_id != name:
            editor.inspector.show_node(new_id)
            editor.inspector._rename(new_id, name)
    for source, target in [("input", "enc"), ("enc", "pool"), ("pool", "mid"), ("mid", "up"), ("enc", "skip"),
                           ("up", "skip"), ("skip", "dec"), ("dec", "head")]:
        slot = len(next(n for n in editor.doc.graph if n["id"] == target)["inputs"])
        assert _connect_by_ports(scene, source, target, slot) is None


def test_build_unet_by_dragging_blocks(editor):
    build_small_unet(editor)
    editor.scene.set_node_params("head", {"filters": 2, "kernel_size": 1, "activation": "softmax"})
    data = yaml.safe_load(editor.yaml_view.editor.toPlainText())
    nodes = {node["id"]: node for node in data["model"]["graph"]}
    assert "template" not in data["model"]
    assert nodes["skip"]["inputs"] == ["enc", "up"]
    assert nodes["head"]["params"] == {"filters": 2, "kernel_size": 1, "activation": "softmax"}
    assert nodes["head"]["inputs"] == ["dec"]
    # static checks put shapes on edges and no problem marks on the nodes
    assert not any(item.problems for item in editor.scene.nodes.values())
    labels = {(e.source.node_id, e.target.node_id): e.label.text() for e in editor.scene.edges}
    assert labels[("pool", "mid")] == "(B, 64, 64, 32)"
    assert labels[("skip", "dec")] == "(B, 128, 128, 64)"


def test_refused_connection_says_why(editor):
    scene = editor.scene
    a = scene.add_block("input")
    g = scene.add_block("global_average_pooling2d")
    c = scene.add_block("conv2d")
    assert _connect_by_ports(scene, a, g) is None
    reason = _connect_by_ports(scene, g, c)
    assert reason is not None and "vector" in reason and "image" in reason
    assert editor.message.text() == reason
    assert next(n for n in editor.doc.graph if n["id"] == c)["inputs"] == []
    # loops and output-to-output drags are refused too
    assert _connect_by_ports(scene, c, c) is not None
    assert scene.connect_ports(scene.nodes[a].output_ports[0], scene.nodes[g].output_ports[0]) is not None


def test_undo_redo_delete_copy_paste(editor):
    scene, stack = editor.scene, editor.doc.undo_stack
    a = scene.add_block("input")
    b = scene.add_block("conv2d")
    scene.request_connection(a, b, 0)
    scene.clearSelection()
    scene.nodes[b].setSelected(True)
    scene.delete_selected()
    assert [n["id"] for n in editor.doc.graph] == [a]
    stack.undo()
    assert next(n for n in editor.doc.graph if n["id"] == b)["inputs"] == [a]
    stack.undo()
    assert next(n for n in editor.doc.graph if n["id"] == b)["inputs"] == []
    stack.redo()
    stack.redo()
    assert [n["id"] for n in editor.doc.graph] == [a]
    stack.undo()
    scene.clearSelection()
    for node_id in (a, b):
        scene.nodes[node_id].setSelected(True)
    assert scene.copy_selected() == 2
    new_ids = scene.paste()
    assert len(new_ids) == 2 and set(new_ids).isdisjoint({a, b})
    copied_b = next(n for n in editor.doc.graph if n["id"] == new_ids[1])
    assert copied_b["inputs"] == [new_ids[0]]  # the edge inside the copy is kept
    assert len(scene.nodes) == 4


def test_yaml_edit_updates_graph(editor, qtbot):
    build_small_unet(editor)
    text = editor.yaml_view.editor.toPlainText()
    text = re.sub(r"\bmid\b", "middle", text)
    editor.yaml_view.editor.setPlainText(text)
    editor.yaml_view.commit()
    assert "middle" in editor.scene.nodes and "mid" not in editor.scene.nodes
    assert editor.scene.nodes["middle"].problems == []
    assert any(e.source.node_id == "middle" and e.target.node_id == "up" for e in editor.scene.edges)
    editor.doc.undo_stack.undo()
    assert "mid" in editor.scene.nodes
    # text that is not valid YAML leaves the graph alone and lists the problem
    editor.yaml_view.editor.setPlainText(text + "  broken: [\n")
    editor.yaml_view.commit()
    assert "mid" in editor.scene.nodes
    assert editor.yaml_view.problems.item(0).text().startswith("✕")


def test_palette_search_and_drag_data(editor):
    palette = editor.palette
    assert palette.filter("pool") >= 2
    assert all("pool" in (n + palette.blocks[n].doc + palette.blocks[n].category).lower()
               for n in palette.visible_names())
    palette.filter("")
    assert len(palette.visible_names()) == len(palette.blocks)


def test_edge_label_stays_clear_of_ports_on_short_edges(editor):
    scene = editor.scene
    a = scene.add_block("input", (0.0, 0.0))
    b = scene.add_block("conv2d", (200.0, 0.0))  # 20 px gap: shorter than the shape label
    scene.request_connection(a, b, 0)
    edge = next(e for e in scene.edges if e.source.node_id == a)
    assert edge.label.text()
    label = edge.label.sceneBoundingRect()
    for port in (*scene.nodes[a].output_ports, scene.nodes[b].input_port(0)):
        assert not label.intersects(port.sceneBoundingRect())
    assert not label.intersects(scene.nodes[a].sceneBoundingRect())
    assert not label.intersects(scene.nodes[b].sceneBoundingRect())

"""The editor's pure graph edits keep port references (``encoder.s8``) tied to their node (no Qt)."""

from __future__ import annotations

from gui.graph_editor import graph


def nodes():
    return [
        {"id": "input", "block": "input", "params": {}, "inputs": []},
        {"id": "encoder", "block": "backbone", "params": {}, "inputs": ["input"]},
        {"id": "lat8", "block": "conv2d", "params": {}, "inputs": ["encoder.s8"]},
        {"id": "lat32", "block": "conv2d", "params": {}, "inputs": ["encoder.s32"]},
        {"id": "sum", "block": "add", "params": {}, "inputs": ["lat8", "lat32"]},
    ]


def test_rename_keeps_ports():
    renamed = graph.rename_node(nodes(), "encoder", "trunk")
    assert [n["inputs"] for n in renamed][2:4] == [["trunk.s8"], ["trunk.s32"]]
    assert graph.rename_node(nodes(), "lat8", "encoder2")[4]["inputs"] == ["encoder2", "lat32"]


def test_remove_disconnect_paste_and_upstream_follow_port_references():
    assert graph.remove_nodes(nodes(), ["encoder"])[1]["inputs"] == []
    assert graph.disconnect(nodes(), "encoder", "lat8")[2]["inputs"] == []
    assert graph.upstream(nodes(), "sum") == {"lat8", "lat32", "encoder", "input"}
    pasted, renamed = graph.paste(nodes(), nodes()[1:3])
    assert pasted[-1]["inputs"] == [f"{renamed['encoder']}.s8"]
    assert graph.layers(nodes())["lat8"] == 2
    assert graph.connect(nodes(), "encoder", "sum", 2, port="s16")[4]["inputs"] == ["lat8", "lat32", "encoder.s16"]

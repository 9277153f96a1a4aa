"""Pure operations on a model graph: a list of ``{id, block, params, inputs}`` nodes (no Qt).

Every mouse action in the editor ends in one of these functions, so tests can drive the exact same
logic. Each function returns a *new* list and never changes its argument (undo keeps the old one).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from builder.graph_refs import make_ref, rename_ref, source_of
from gui.graph_editor.catalog import BlockInfo

Nodes = list[dict[str, Any]]


def node_ids(nodes: Nodes) -> list[str]:
    return [str(node["id"]) for node in nodes]


def find(nodes: Nodes, node_id: str) -> dict[str, Any] | None:
    return next((node for node in nodes if node["id"] == node_id), None)


def unique_id(nodes: Nodes, base: str) -> str:
    """A node id based on ``base`` that is not used yet: ``conv2d``, ``conv2d_2``, ..."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", base).strip("_") or "node"
    used = set(node_ids(nodes))
    if base not in used:
        return base
    stem = re.sub(r"_\d+$", "", base)
    index = 2
    while f"{stem}_{index}" in used:
        index += 1
    return f"{stem}_{index}"


def add_node(nodes: Nodes, block: str, params: dict[str, Any] | None = None, node_id: str | None = None
             ) -> tuple[Nodes, str]:
    """Return ``(new_nodes, id)`` with a node of type ``block`` appended."""
    new_id = unique_id(nodes, node_id or block)
    result = copy.deepcopy(nodes)
    result.append({"id": new_id, "block": block, "params": dict(params or {}), "inputs": []})
    return result, new_id


def upstream(nodes: Nodes, node_id: str) -> set[str]:
    """Ids of every node that feeds ``node_id``, directly or not."""
    by_id = {node["id"]: node for node in nodes}
    seen: set[str] = set()
    stack = [node_id]
    while stack:
        current = by_id.get(stack.pop())
        for source in (source_of(ref) for ref in (current or {}).get("inputs", [])):
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return seen


def connection_problem(nodes: Nodes, blocks: dict[str, BlockInfo], source: str, target: str, slot: int,
                       kinds: dict[str, str] | None = None) -> str | None:
    """Why ``source``'s output may not feed input ``slot`` of ``target`` (``None`` when it may).

    ``kinds`` gives the tensor kind each node actually produces when known from the shape checks
    (blocks with an "any" port give what they receive). The text is shown to the user next to the
    refused connection, so it says what is wrong and why.
    """
    src, dst = find(nodes, source), find(nodes, target)
    if src is None or dst is None:
        return "One of the two nodes no longer exists."
    if source == target:
        return f"'{source}' cannot feed itself."
    if target in upstream(nodes, source) or target == source:
        return f"Connecting '{source}' to '{target}' would make a loop; a network must flow one way."
    src_info, dst_info = blocks.get(src["block"]), blocks.get(dst["block"])
    if dst_info is not None and not dst_info.inputs:
        return f"'{target}' ({dst['block']}) is an input block; it takes no inputs."
    if dst_info is not None and not dst_info.variadic and slot >= len(dst_info.inputs):
        return f"'{target}' ({dst['block']}) has only {len(dst_info.inputs)} input(s)."
    if src_info is not None and dst_info is not None:
        out_kind = (kinds or {}).get(source) or src_info.outputs[0].kind
        in_port = dst_info.inputs[min(slot, len(dst_info.inputs) - 1)]
        if "any" not in (out_kind, in_port.kind) and out_kind != in_port.kind:
            return (
                f"'{source}' gives {_article(out_kind)} ({_kind_words(out_kind)}) but input '{in_port.name}' of "
                f"'{target}' ({dst['block']}) needs {_article(in_port.kind)} ({_kind_words(in_port.kind)})."
                + (" Add a global pooling or flatten block in between." if out_kind == "image" else "")
            )
    if source in [source_of(ref) for ref in dst.get("inputs", [])] and dst_info is not None and dst_info.variadic:
        return f"'{source}' already feeds '{target}'."
    return None


def _article(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _kind_words(kind: str) -> str:
    return {"image": "a feature map: height x width x channels", "vector": "a flat list of features"}.get(
        kind, kind
    )


def connect(nodes: Nodes, source: str, target: str, slot: int, blocks: dict[str, BlockInfo] | None = None,
            port: str = "") -> Nodes:
    """Return nodes with ``source`` (output ``port``, or its default output) feeding input ``slot`` of ``target``.

    The input is written ``source`` or ``source.port``; it replaces what was in ``slot``. For variadic inputs
    (Add, Concatenate) a ``slot`` at or past the end appends another input.
    """
    result = copy.deepcopy(nodes)
    dst = find(result, target)
    assert dst is not None, target
    inputs = list(dst.get("inputs", []))
    ref = make_ref(source, port)
    if slot >= len(inputs):
        inputs.append(ref)
    else:
        inputs[slot] = ref
    dst["inputs"] = inputs
    return result


def disconnect(nodes: Nodes, source: str, target: str) -> Nodes:
    """Return nodes without the edge(s) ``source`` -> ``target`` (from any output port of ``source``)."""
    result = copy.deepcopy(nodes)
    dst = find(result, target)
    if dst is not None:
        dst["inputs"] = [ref for ref in dst.get("inputs", []) if source_of(ref) != source]
    return result


def remove_nodes(nodes: Nodes, ids: Iterable[str]) -> Nodes:
    """Return nodes without ``ids`` and without any edge that touched them."""
    gone = set(ids)
    result = [copy.deepcopy(node) for node in nodes if node["id"] not in gone]
    for node in result:
        node["inputs"] = [ref for ref in node.get("inputs", []) if source_of(ref) not in gone]
    return result


def paste(nodes: Nodes, clipboard: Nodes) -> tuple[Nodes, dict[str, str]]:
    """Append copies of ``clipboard`` nodes with fresh ids; edges inside the copy are kept.

    Returns the new list and the mapping old id -> new id.
    """
    result = copy.deepcopy(nodes)
    renamed: dict[str, str] = {}
    for node in clipboard:
        renamed[node["id"]] = unique_id(result + [{"id": v} for v in renamed.values()], node["id"])
    for node in clipboard:
        copied = copy.deepcopy(node)
        copied["id"] = renamed[node["id"]]
        copied["inputs"] = [rename_ref(ref, source_of(ref), renamed[source_of(ref)])
                            for ref in node.get("inputs", []) if source_of(ref) in renamed]
        result.append(copied)
    return result, renamed


def set_params(nodes: Nodes, node_id: str, params: dict[str, Any]) -> Nodes:
    """Return nodes with the parameters of ``node_id`` replaced."""
    result = copy.deepcopy(nodes)
    node = find(result, node_id)
    if node is not None:
        node["params"] = dict(params)
    return result


def rename_node(nodes: Nodes, old: str, new: str) -> Nodes:
    """Return nodes with ``old`` renamed to ``new`` everywhere: edges and port references follow
    (``old.s32`` becomes ``new.s32``)."""
    result = copy.deepcopy(nodes)
    for node in result:
        if node["id"] == old:
            node["id"] = new
        node["inputs"] = [rename_ref(ref, old, new) for ref in node.get("inputs", [])]
    return result


def layers(nodes: Nodes) -> dict[str, int]:
    """Depth of every node: the longest path from a node without inputs (used by the tidy layout)."""
    by_id = {node["id"]: node for node in nodes}
    depth: dict[str, int] = {}

    def visit(node_id: str, trail: frozenset[str]) -> int:
        if node_id in depth:
            return depth[node_id]
        if node_id in trail or node_id not in by_id:
            return 0
        parents = [source_of(ref) for ref in by_id[node_id].get("inputs", []) if source_of(ref) in by_id]
        value = 1 + max((visit(p, trail | {node_id}) for p in parents), default=-1)
        depth[node_id] = value
        return value

    for node in nodes:
        visit(node["id"], frozenset())
    return depth

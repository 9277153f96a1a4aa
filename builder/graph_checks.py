"""Static checks of a model graph, before any TensorFlow op runs.

:func:`check_graph` finds unknown blocks and node ids, duplicate ids, cycles, dangling nodes, missing or
surplus inputs, tensor-kind and shape mismatches, and output shapes that do not fit the task. Each problem is a
:class:`GraphError` naming the node(s), the shapes involved and a fix. It also gives every node's output shape(s)
and the graph's down-sampling factor, which ``cellwright build`` and the GUI show.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from builder.blocks.context import ModelContext
from builder.blocks.registry import Block, get_block, kind_of, shape_text
from builder.errors import GraphError

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass
class CheckedNode:
    """One node after the checks: its block instance, resolved inputs and output shape per port."""

    id: str
    block: Block
    inputs: list[tuple[str, str]]  # (node id, output port)
    shapes: dict[str, tuple] = field(default_factory=dict)
    scales: dict[str, Fraction] = field(default_factory=dict)

    @property
    def shape(self) -> tuple:
        """Shape of the default output port."""
        return self.shapes[self.default_port()]

    def default_port(self) -> str:
        return self.block.default_output or self.block.outputs[0].name


@dataclass
class GraphReport:
    """Result of :func:`check_graph`: nodes in run order, the output node and the down-sampling factor."""

    nodes: dict[str, CheckedNode]
    order: list[str]
    inputs: list[str]
    output: str
    factor: int
    fixed_size: bool


def as_dicts(nodes: list[Any]) -> list[dict[str, Any]]:
    """Nodes as plain dicts ``{id, block, params, inputs}`` (accepts pydantic models too)."""
    out = []
    for node in nodes:
        d = node.model_dump() if hasattr(node, "model_dump") else dict(node)
        out.append({"id": d.get("id"), "block": d.get("block"), "params": d.get("params") or {},
                    "inputs": list(d.get("inputs") or [])})
    return out


def _make_blocks(nodes: list[dict[str, Any]], ctx: ModelContext) -> dict[str, CheckedNode]:
    seen: dict[str, int] = {}
    checked: dict[str, CheckedNode] = {}
    for index, node in enumerate(nodes):
        node_id = node["id"]
        if not isinstance(node_id, str) or not _ID.match(node_id):
            raise GraphError(
                f"model.graph[{index}]", f"node id {node_id!r} is not a valid name.",
                "use letters, digits, '_' and '-', starting with a letter (e.g. enc1_conv)",
            )
        if node_id in seen:
            raise GraphError(
                f"node '{node_id}'", f"nodes {seen[node_id]} and {index} of the graph both have the id '{node_id}'.",
                f"give each node its own id (e.g. rename the second one to '{node_id}_2')",
            )
        seen[node_id] = index
        cls = get_block(str(node["block"]))
        try:
            params = cls.Params.model_validate(node["params"])
        except ValidationError as error:
            first = error.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise GraphError(
                f"node '{node_id}' ({cls.name}) params.{key}",
                f"{first['msg']}. Received: {key}={first.get('input')!r}",
                f"see `cellwright blocks {cls.name}` for the parameters and their ranges",
            ) from None
        checked[node_id] = CheckedNode(node_id, cls(node_id, params, ctx), [])
    return checked


def _resolve_inputs(nodes: list[dict[str, Any]], checked: dict[str, CheckedNode]) -> None:
    for node in nodes:
        me = checked[node["id"]]
        block = me.block
        for ref in node["inputs"]:
            source_id, _, port = str(ref).partition(".")
            if source_id not in checked:
                close = difflib.get_close_matches(source_id, list(checked), n=1)
                raise GraphError(
                    f"node '{me.id}'", f"input '{ref}' names a node id '{source_id}' that does not exist in the graph.",
                    f"use an existing node id (did you mean '{close[0]}'?)" if close else "use an existing node id",
                )
            source = checked[source_id].block
            ports = [p.name for p in source.outputs]
            port = port or checked[source_id].default_port()
            if port not in ports:
                raise GraphError(
                    f"node '{me.id}'", f"input '{ref}': node '{source_id}' ({source.name}) has no output '{port}'.",
                    f"use one of {', '.join(source_id + '.' + p for p in ports)}",
                )
            me.inputs.append((source_id, port))
        block.input_ids = [s for s, _ in me.inputs]
        n, ports = len(me.inputs), len(block.inputs)
        low = 2 if block.variadic else (block.min_inputs if block.min_inputs is not None else ports)
        high = math.inf if block.variadic else ports
        if low <= n <= high:
            continue
        expected = f"at least {low}" if block.variadic else str(low) if low == high else f"{low} to {high}"
        names = ", ".join(p.name for p in block.inputs) or "none"
        if n == 0:
            raise GraphError(
                f"node '{me.id}'", f"{block.name} needs {expected} input(s) ({names}) but the node lists no inputs.",
                "add the id of the node feeding it under 'inputs:' (or remove the node)",
            )
        raise GraphError(
            f"node '{me.id}'",
            f"{block.name} takes {expected} input(s) ({names}) but got {n}: {', '.join(node['inputs'])}.",
            f"list exactly {expected} node id(s) under 'inputs:'",
        )


def _order(nodes: list[dict[str, Any]], checked: dict[str, CheckedNode]) -> list[str]:
    ids = [n["id"] for n in nodes]
    pending = {i: {s for s, _ in checked[i].inputs} for i in ids}
    order: list[str] = []
    while True:
        ready = [i for i in ids if i in pending and not pending[i]]
        if not ready:
            break
        for i in ready:
            order.append(i)
            del pending[i]
        for deps in pending.values():
            deps.difference_update(ready)
    if pending:
        cycle = _find_cycle(pending, checked)
        raise GraphError(
            f"nodes {', '.join(repr(c) for c in dict.fromkeys(cycle))}",
            f"the graph has a cycle: {' -> '.join(cycle)}; data would flow in a circle.",
            f"remove '{cycle[-2]}' from the inputs of '{cycle[-1]}' (models must flow from the input to the output)",
        )
    return order


def _find_cycle(pending: dict[str, set[str]], checked: dict[str, CheckedNode]) -> list[str]:
    start = next(iter(pending))
    path, node = [start], start
    while True:
        node = next(s for s, _ in checked[node].inputs if s in pending)
        if node in path:
            cycle = path[path.index(node):] + [node]
            return list(reversed(cycle))
        path.append(node)


def _output(order: list[str], nodes: list[dict[str, Any]], checked: dict[str, CheckedNode]) -> str:
    used = {s for c in checked.values() for s, _ in c.inputs}
    sinks = [n["id"] for n in nodes if n["id"] not in used]
    output = sinks[-1]
    if len(sinks) > 1:
        sink = sinks[0]
        raise GraphError(
            f"node '{sink}'",
            f"node '{sink}' ({checked[sink].block.name}) is not used by any other node, but the model output is "
            f"'{output}' (the last unused node).",
            f"connect '{sink}' as an input of another node, or delete it",
        )
    return output


def _scales(order: list[str], checked: dict[str, CheckedNode]) -> int:
    for node_id in order:
        me = checked[node_id]
        base = max((checked[s].scales.get(p, Fraction(1)) for s, p in me.inputs), default=Fraction(1))
        own = me.block.scale()
        ports = [p.name for p in me.block.outputs]
        me.scales = {p: base * (own[p] if isinstance(own, dict) else own) for p in ports}
    biggest = max((s for c in checked.values() for s in c.scales.values()), default=Fraction(1))
    return max(1, math.ceil(biggest))


def _infer(order: list[str], checked: dict[str, CheckedNode], factor: int) -> None:
    for node_id in order:
        me = checked[node_id]
        block = me.block
        block.graph_factor = factor
        shapes = []
        for i, (source_id, port) in enumerate(me.inputs):
            shape = checked[source_id].shapes.get(port)
            if shape is None:
                have = ", ".join(f"{source_id}.{p}" for p in checked[source_id].shapes)
                raise GraphError(
                    f"node '{me.id}'", f"node '{source_id}' gives no output '{port}' for these settings.",
                    f"use one of {have}",
                )
            want = block.inputs[min(i, len(block.inputs) - 1)]
            have_kind = kind_of(shape)
            if want.kind != "any" and want.kind != have_kind:
                need = "an image (B, H, W, C)" if want.kind == "image" else "a vector (B, F)"
                raise GraphError(
                    f"nodes '{source_id}' -> '{me.id}'",
                    f"node '{source_id}' gives a {have_kind} {shape_text(shape)} but node '{me.id}' ({block.name}) "
                    f"expects {need} at input '{want.name}'.",
                    "insert global_average_pooling2d or flatten (image -> vector) or reshape (vector -> image) "
                    "between them",
                )
            shapes.append(shape)
        result = block.infer(shapes)
        me.shapes = result if isinstance(result, dict) else {me.default_port(): result}


def _check_task(report: GraphReport, ctx: ModelContext) -> None:
    from builder.tasks import get_task

    out = report.nodes[report.output]
    shape, task = out.shape, get_task(ctx.task)
    where = f"node '{out.id}' (model output)"
    if task.output == "class_vector":
        if len(shape) != 1:
            raise GraphError(
                where, f"{task.name} needs a vector (B, n_classes) output but '{out.id}' gives {shape_text(shape)}.",
                f"end the graph with a {task.head_block}",
            )
    else:
        first_in = report.nodes[report.inputs[0]]
        if len(shape) != 3 or shape[:2] != first_in.shape[:2]:
            raise GraphError(
                where,
                f"{task.name} needs an output with the input's height and width, but input '{first_in.id}' gives "
                f"{shape_text(first_in.shape)} and output '{out.id}' gives {shape_text(shape)}.",
                "add up-sampling steps until the output is as large as the input (one per down-sampling step)",
            )
    expected = task.output_channels(ctx)
    if expected is not None and shape[-1] not in (None, expected):
        raise GraphError(
            where, f"{task.name} expects {expected} output channels here but '{out.id}' gives {shape_text(shape)}.",
            f"end the graph with the task's head block ({task.head_block}), or set data.classes in the recipe",
        )


def check_graph(nodes: list[Any], ctx: ModelContext | None = None, *, check_task: bool = True) -> GraphReport:
    """Check a graph statically and infer every node's output shape.

    Parameters
    ----------
    nodes : list of dict
        ``{id, block, params, inputs}`` per node (recipe ``Node`` models are accepted too).
    ctx : ModelContext, optional
        Task and input shape; a 64x64x1 segmentation context when left out.
    check_task : bool
        Also check that the output fits the task (shape and channels).

    Raises
    ------
    GraphError
        The first problem found, naming node ids, shapes and a fix.
    """
    ctx = ctx or ModelContext()
    nodes = as_dicts(nodes)
    if not nodes:
        raise GraphError("model.graph", "the graph has no nodes.", "add an input node, some blocks and a head")
    checked = _make_blocks(nodes, ctx)
    _resolve_inputs(nodes, checked)
    order = _order(nodes, checked)
    output = _output(order, nodes, checked)
    inputs = [i for i in order if checked[i].block.category == "Input"]
    if not inputs:
        raise GraphError("model.graph", "the graph has no input node.", "add a node with block: input")
    factor = _scales(order, checked)
    _infer(order, checked, factor)
    fixed = ctx.fixed_size or any(c.block.needs_fixed_size() for c in checked.values())
    report = GraphReport(checked, order, inputs, output, factor, fixed)
    if check_task:
        _check_task(report, ctx)
    return report


def downsampling_factor(nodes: list[Any]) -> int:
    """Down-sampling factor of a graph (1 when the graph is not valid yet)."""
    try:
        nodes = as_dicts(nodes)
        checked = _make_blocks(nodes, ModelContext())
        _resolve_inputs(nodes, checked)
        return _scales(_order(nodes, checked), checked)
    except GraphError:
        return 1

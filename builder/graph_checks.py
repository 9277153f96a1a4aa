"""Static checks of a model graph, before any TensorFlow op runs (no Keras import: the GUI uses this too).

:func:`find_problems` collects *every* problem of a graph, each located at its node (and port or parameter):
invalid or duplicate ids, unknown blocks, bad parameters, inputs that name no node or no output port,
missing or surplus inputs, cycles, dangling nodes, tensor-kind and shape mismatches, and an output that
does not fit the task. It also gives every node's output shape(s) and the graph's down-sampling factor,
which ``cellwright build`` and the GUI editor show. :func:`check_graph` raises one :class:`GraphError`
listing all errors (what the compiler uses).
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
from builder.blocks.registry import Block, all_blocks, kind_of, shape_text, unknown_name_message
from builder.errors import CellwrightError, GraphError, GraphProblemsError
from builder.graph_refs import split_ref

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
    """Result of the checks: nodes in run order, output node, down-sampling factor and every problem found."""

    nodes: dict[str, CheckedNode]
    order: list[str]
    inputs: list[str]
    output: str
    factor: int
    fixed_size: bool
    problems: list[CellwrightError] = field(default_factory=list)

    @property
    def errors(self) -> list[CellwrightError]:
        return [p for p in self.problems if p.severity == "error"]

    def problems_at(self, node_id: str) -> list[CellwrightError]:
        """Problems located at node ``node_id``."""
        return [p for p in self.problems if p.node == node_id]

    def shape_of(self, ref: str) -> tuple | None:
        """Static shape given by reference ``node`` or ``node.port`` (``None`` when unknown)."""
        node_id, port = split_ref(ref)
        node = self.nodes.get(node_id)
        if node is None:
            return None
        return node.shapes.get(port or node.default_port())


class _Problems:
    """Collects located problems; with ``key_prefix`` (e.g. ``model.graph``) each also gets its recipe key."""

    def __init__(self, nodes: list[dict[str, Any]], key_prefix: str) -> None:
        self.items: list[CellwrightError] = []
        self.index = {str(n["id"]): i for i, n in reversed(list(enumerate(nodes)))}
        self.blocks = {str(n["id"]): str(n["block"]) for n in nodes}
        self.key_prefix = key_prefix

    def add(self, node: str, what: str, fix: str, *, port: str = "", param: str = "", key: str = "",
            index: int | None = None, **parts: Any) -> None:
        """Record an error at ``node``; ``key`` is relative to the node (``params.filters``, ``inputs[1]``).

        With a key prefix the error's key is the full recipe key, e.g. ``model.graph[3].params.filters``.
        """
        index = self.index.get(node) if index is None else index
        if not self.key_prefix:
            key = ""
        elif index is not None:
            key = f"{self.key_prefix}[{index}]" + (f".{key}" if key else "")
        else:
            key = self.key_prefix
        self.items.append(GraphError(what=what, fix=fix, node=node, block=self.blocks.get(node, "") if node else "",
                                     port=port, param=param, key=key, **parts))

    def adopt(self, error: CellwrightError, node: str) -> None:
        """Record an error raised by a block's own checks, located at ``node``."""
        error.node = error.node or node
        error.block = error.block or self.blocks.get(node, "")
        if self.key_prefix and not error.key and node in self.index:
            error.key = f"{self.key_prefix}[{self.index[node]}]"
        self.items.append(error)


def as_dicts(nodes: list[Any]) -> list[dict[str, Any]]:
    """Nodes as plain dicts ``{id, block, params, inputs}`` (accepts pydantic models too)."""
    out = []
    for node in nodes:
        d = node.model_dump() if hasattr(node, "model_dump") else dict(node)
        out.append({"id": d.get("id"), "block": d.get("block"), "params": d.get("params") or {},
                    "inputs": list(d.get("inputs") or [])})
    return out


def _make_blocks(nodes: list[dict[str, Any]], ctx: ModelContext, found: _Problems) -> tuple[dict[str, CheckedNode],
                                                                                             set[str]]:
    """Block instances of the usable nodes, and the ids of every node with a valid, unique id."""
    blocks = all_blocks()
    seen: dict[str, int] = {}
    checked: dict[str, CheckedNode] = {}
    for index, node in enumerate(nodes):
        node_id = node["id"]
        if not isinstance(node_id, str) or not _ID.match(node_id):
            found.add("", f"Node {index} of the graph has the id {node_id!r}, which is not a valid name.",
                      "use letters, digits, '_' and '-', starting with a letter (e.g. enc1_conv)",
                      key="id", index=index, received=f"id={node_id!r}")
            continue
        if node_id in seen:
            found.add(node_id, f"nodes {seen[node_id]} and {index} of the graph both have the id '{node_id}'.",
                      f"give each node its own id (e.g. rename the second one to '{node_id}_2')", key="id",
                      index=index)
            continue
        seen[node_id] = index
        cls = blocks.get(str(node["block"]))
        if cls is None:
            found.add(node_id, unknown_name_message("block", node["block"], blocks), "see `cellwright blocks`",
                      key="block")
            continue
        try:
            params = cls.Params.model_validate(node["params"])
        except ValidationError as error:
            for item in error.errors():
                name = ".".join(str(p) for p in item["loc"])
                found.add(node_id, f"{item['msg']}.", f"see `cellwright blocks {cls.name}` for the parameters and "
                          "their ranges", param=name, key=f"params.{name}",
                          received=f"{name}={item.get('input')!r}")
            continue
        checked[node_id] = CheckedNode(node_id, cls(node_id, params, ctx), [])
    return checked, set(seen)


def _resolve_inputs(nodes: list[dict[str, Any]], checked: dict[str, CheckedNode], known: set[str],
                    found: _Problems) -> dict[str, list[str]]:
    """Fill each usable node's inputs; return every known node's source ids (for ordering and dangling nodes)."""
    sources: dict[str, list[str]] = {}
    for node in nodes:
        node_id = node["id"]
        if node_id not in known or node_id in sources:
            continue
        sources[node_id] = []
        me = checked.get(node_id)
        for slot, ref in enumerate(node["inputs"]):
            source_id, port = split_ref(ref)
            if source_id not in known:
                close = difflib.get_close_matches(source_id, sorted(known), n=1)
                found.add(node_id, f"input '{ref}' names a node id '{source_id}' that does not exist in the graph.",
                          f"use an existing node id (did you mean '{close[0]}'?)" if close else
                          "use an existing node id", port=_input_port(me, slot), key=f"inputs[{slot}]")
                continue
            sources[node_id].append(source_id)
            if source_id not in checked:
                continue  # the source itself is broken and reported
            source = checked[source_id]
            ports = [p.name for p in source.block.outputs]
            port = port or source.default_port()
            if port not in ports:
                found.add(node_id, f"input '{ref}': node '{source_id}' ({source.block.name}) has no output '{port}'.",
                          f"use one of {', '.join(source_id + '.' + p for p in ports)}",
                          port=_input_port(me, slot), key=f"inputs[{slot}]")
                continue
            if me is not None:
                me.inputs.append((source_id, port))
        if me is None:
            continue
        if len(me.inputs) == len(node["inputs"]):
            _count_inputs(me, node, found)
        else:
            me.inputs = []  # an input is broken (reported): this node's shapes stay unknown
    return sources


def _input_port(me: CheckedNode | None, slot: int) -> str:
    if me is None or not me.block.inputs:
        return ""
    return me.block.inputs[min(slot, len(me.block.inputs) - 1)].name


def _count_inputs(me: CheckedNode, node: dict[str, Any], found: _Problems) -> None:
    block = me.block
    block.input_ids = [s for s, _ in me.inputs]
    n, ports = len(node["inputs"]), len(block.inputs)
    low = 2 if block.variadic else (block.min_inputs if block.min_inputs is not None else ports)
    high = math.inf if block.variadic else ports
    if low <= n <= high:
        return
    expected = f"at least {low}" if block.variadic else str(low) if low == high else f"{low} to {high}"
    names = ", ".join(p.name for p in block.inputs) or "none"
    if n == 0:
        found.add(me.id, f"{block.name} needs {expected} input(s) ({names}) but the node lists no inputs.",
                  "add the id of the node feeding it under 'inputs:' (or remove the node)", key="inputs")
    else:
        found.add(me.id, f"{block.name} takes {expected} input(s) ({names}) but got {n}: {', '.join(node['inputs'])}.",
                  f"list exactly {expected} node id(s) under 'inputs:'", key="inputs")
    me.inputs = []  # not inferred: the problem is reported


def _order(ids: list[str], sources: dict[str, list[str]], found: _Problems) -> list[str]:
    """Known node ids with every node after its inputs; each cycle is reported once and broken up."""
    pending = {i: set(sources[i]) for i in ids}
    order: list[str] = []
    while pending:
        ready = [i for i in ids if i in pending and not pending[i]]
        if not ready:
            cycle = _find_cycle(pending)
            found.add(cycle[-1], f"the graph has a cycle: {' -> '.join(cycle)}; data would flow in a circle.",
                      f"remove '{cycle[-2]}' from the inputs of '{cycle[-1]}' (models must flow from the input to "
                      "the output)", key="inputs")
            for node_id in cycle:
                pending[node_id].clear()
            continue
        for i in ready:
            order.append(i)
            del pending[i]
        for deps in pending.values():
            deps.difference_update(ready)
    return order


def _find_cycle(pending: dict[str, set[str]]) -> list[str]:
    node = next(iter(pending))
    path = [node]
    while True:
        node = sorted(pending[node])[0]
        if node in path:
            cycle = path[path.index(node):] + [node]
            return list(reversed(cycle))
        path.append(node)


def _output(ids: list[str], sources: dict[str, list[str]], found: _Problems) -> str:
    used = {s for deps in sources.values() for s in deps}
    sinks = [i for i in ids if i not in used]
    if not sinks:
        return ""
    output = sinks[-1]
    for sink in sinks[:-1]:
        found.add(sink, f"node '{sink}' ({found.blocks[sink]}) is not used by any other node, but the model output "
                  f"is '{output}' (the last unused node).",
                  f"connect '{sink}' as an input of another node, or delete it")
    return output


def _scales(order: list[str], checked: dict[str, CheckedNode]) -> int:
    for node_id in (i for i in order if i in checked):
        me = checked[node_id]
        base = max((checked[s].scales.get(p, Fraction(1)) for s, p in me.inputs), default=Fraction(1))
        own = me.block.scale()
        me.scales = {p.name: base * (own[p.name] if isinstance(own, dict) else own) for p in me.block.outputs}
    biggest = max((s for c in checked.values() for s in c.scales.values()), default=Fraction(1))
    return max(1, math.ceil(biggest))


def _infer(order: list[str], checked: dict[str, CheckedNode], factor: int, found: _Problems) -> None:
    for node_id in (i for i in order if i in checked):
        me = checked[node_id]
        block = me.block
        block.graph_factor = factor
        if not me.inputs and block.inputs:
            continue  # its inputs are reported
        shapes = _input_shapes(me, checked, found)
        if shapes is None:
            continue
        try:
            result = block.infer(shapes)
        except CellwrightError as error:
            found.adopt(error, me.id)
            continue
        me.shapes = result if isinstance(result, dict) else {me.default_port(): result}


def _input_shapes(me: CheckedNode, checked: dict[str, CheckedNode], found: _Problems) -> list[tuple] | None:
    """Shapes reaching ``me``, or ``None`` when one is unknown (reported upstream) or of the wrong kind."""
    shapes = []
    for i, (source_id, port) in enumerate(me.inputs):
        shape = checked[source_id].shapes.get(port)
        if shape is None:
            if checked[source_id].shapes:  # the source was inferred but has no such output for these settings
                have = ", ".join(f"{source_id}.{p}" for p in checked[source_id].shapes)
                found.add(me.id, f"node '{source_id}' gives no output '{port}' for these settings.",
                          f"use one of {have}", port=_input_port(me, i), key=f"inputs[{i}]")
            return None
        want = me.block.inputs[min(i, len(me.block.inputs) - 1)]
        have_kind = kind_of(shape)
        if want.kind != "any" and want.kind != have_kind:
            need = "an image (B, H, W, C)" if want.kind == "image" else "a vector (B, F)"
            found.add(me.id, f"node '{source_id}' gives a {have_kind} {shape_text(shape)} but node '{me.id}' "
                      f"({me.block.name}) expects {need} at input '{want.name}'.",
                      "insert global_average_pooling2d or flatten (image -> vector) or reshape (vector -> image) "
                      "between them", port=want.name, key=f"inputs[{i}]")
            return None
        shapes.append(shape)
    return shapes


def _check_task(report: GraphReport, ctx: ModelContext, found: _Problems) -> None:
    from builder.tasks import get_task

    out = report.nodes.get(report.output)
    if out is None or not out.shapes or not report.inputs or not report.nodes[report.inputs[0]].shapes:
        return  # nothing to compare: the reason is reported already
    shape, task, name = out.shape, get_task(ctx.task), out.id
    if task.output == "class_vector":
        if len(shape) != 1:
            found.add(name, f"{task.name} needs a vector (B, n_classes) output but '{name}' gives "
                      f"{shape_text(shape)}.", f"end the graph with a {task.head_block}")
            return
    else:
        first_in = report.nodes[report.inputs[0]]
        if len(shape) != 3 or shape[:2] != first_in.shape[:2]:
            found.add(name, f"{task.name} needs an output with the input's height and width, but input "
                      f"'{first_in.id}' gives {shape_text(first_in.shape)} and output '{name}' gives "
                      f"{shape_text(shape)}.",
                      "add up-sampling steps until the output is as large as the input (one per down-sampling "
                      "step)")
            return
    expected = task.output_channels(ctx)
    if expected is not None and shape[-1] not in (None, expected):
        found.add(name, f"{task.name} expects {expected} output channels here but '{name}' gives "
                  f"{shape_text(shape)}.",
                  f"end the graph with the task's head block ({task.head_block}), or set data.classes in the recipe")


def find_problems(nodes: list[Any], ctx: ModelContext | None = None, *, check_task: bool = True,
                  key_prefix: str = "") -> GraphReport:
    """Check a graph statically, infer every node's output shapes and collect every problem.

    Parameters
    ----------
    nodes : list of dict
        ``{id, block, params, inputs}`` per node (recipe ``Node`` models are accepted too).
    ctx : ModelContext, optional
        Task and input shape; a 64x64x1 segmentation context when left out.
    check_task : bool
        Also check that the output fits the task (shape and channels).
    key_prefix : str
        Recipe key of the node list (``model.graph`` for a recipe's own graph): problems then carry key
        paths such as ``model.graph[3].params.filters``. Empty for expanded templates.

    Returns
    -------
    GraphReport
        Shapes of the nodes that could be checked, and ``problems`` (each with its node id, and port or
        parameter when it concerns one). Never raises for a bad graph.
    """
    ctx = ctx or ModelContext()
    nodes = as_dicts(nodes)
    found = _Problems(nodes, key_prefix)
    if not nodes:
        found.add("", "the graph has no nodes.", "add an input node, some blocks and a head")
        return GraphReport({}, [], [], "", 1, ctx.fixed_size, found.items)
    checked, known = _make_blocks(nodes, ctx, found)
    sources = _resolve_inputs(nodes, checked, known, found)
    ids = [i for i in dict.fromkeys(str(n["id"]) for n in nodes) if i in known]
    order = _order(ids, sources, found)
    output = _output(ids, sources, found)
    inputs = [i for i in order if i in checked and checked[i].block.category == "Input"]
    if not inputs and not any(found.blocks.get(i) == "input" for i in known):
        found.add("", "the graph has no input node.", "add a node with block: input")
    factor = _scales(order, checked)
    _infer(order, checked, factor, found)
    fixed = ctx.fixed_size or any(c.block.needs_fixed_size() for c in checked.values())
    report = GraphReport(checked, order, inputs, output, factor, fixed, found.items)
    if check_task and not found.items:  # with other errors the output node may not be the one meant
        _check_task(report, ctx, found)
    return report


def check_graph(nodes: list[Any], ctx: ModelContext | None = None, *, check_task: bool = True,
                key_prefix: str = "") -> GraphReport:
    """Like :func:`find_problems`, but raise when the graph has errors (what the compiler needs).

    Raises
    ------
    GraphError
        Every error found (``problems``), each naming its node, the shapes and a fix.
    """
    report = find_problems(nodes, ctx, check_task=check_task, key_prefix=key_prefix)
    if report.errors:
        raise GraphProblemsError(report.errors)
    return report


def downsampling_factor(nodes: list[Any]) -> int:
    """Down-sampling factor of a graph (1 while its structure is not valid yet)."""
    nodes = as_dicts(nodes)
    found = _Problems(nodes, "")
    checked, known = _make_blocks(nodes, ModelContext(), found)
    sources = _resolve_inputs(nodes, checked, known, found)
    ids = [i for i in dict.fromkeys(str(n["id"]) for n in nodes) if i in known]
    order = _order(ids, sources, found)
    return 1 if found.items else _scales(order, checked)

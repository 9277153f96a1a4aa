"""Static checks of the graph shown in place: tensor shapes on edges, problems on nodes (no TensorFlow).

Uses only the static half of each block (``Params`` validation and ``infer``), the same code the
compiler runs before it builds Keras layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from builder.tasks import DEFAULT_TASK
from gui.graph_editor.catalog import BlockInfo


@dataclass
class CheckResult:
    """Per-node output shapes (without batch axis) and per-node problem texts."""

    shapes: dict[str, tuple | None] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def add(self, node_id: str, text: str) -> None:
        self.problems.setdefault(node_id, []).append(text)


def format_shape(shape: Any) -> str:
    """``(B, 64, 64, 16)`` for a static shape (``?`` for unknown sizes)."""
    if isinstance(shape, dict):
        shape = next(iter(shape.values()), None)
    if shape is None:
        return ""
    return "(B, " + ", ".join("?" if size is None else str(size) for size in shape) + ")"


def kind_of(shape: Any) -> str:
    """Tensor kind of a static shape: "image" for (H, W, C), "vector" for (F,)."""
    if isinstance(shape, dict):
        shape = next(iter(shape.values()), ())
    return "image" if len(shape) == 3 else "vector" if len(shape) == 1 else "any"


def resolution_levels(result: CheckResult, recipe: dict[str, Any]) -> dict[str, int]:
    """How many times each node's image is halved relative to the input (for the "U" layout)."""
    import math

    size = model_context(recipe).input_shape[0]
    levels = {}
    for node_id, shape in result.shapes.items():
        if isinstance(shape, tuple) and len(shape) == 3 and shape[0] and size:
            levels[node_id] = max(0, round(math.log2(size / shape[0])))
    return levels


def model_context(recipe: dict[str, Any]) -> Any:
    """The :class:`~builder.blocks.context.ModelContext` the shape checks use, from a (maybe invalid) recipe."""
    from builder.blocks.context import ModelContext

    data = recipe.get("data") if isinstance(recipe.get("data"), dict) else {}
    pre = recipe.get("preprocess") if isinstance(recipe.get("preprocess"), dict) else {}
    patch = pre.get("patch") if isinstance(pre.get("patch"), dict) else {}
    size = pre.get("image_size") or patch.get("size") or 128
    channels = data.get("channels")
    classes = data.get("classes")
    try:
        return ModelContext(
            task=str(recipe.get("task") or DEFAULT_TASK),
            input_shape=(int(size), int(size), len(channels) if isinstance(channels, list) and channels else 1),
            n_classes=len(classes) if isinstance(classes, list) and classes else 2,
        )
    except (TypeError, ValueError):
        return ModelContext()


def check_graph(recipe: dict[str, Any], nodes: list[dict[str, Any]], blocks: dict[str, BlockInfo]) -> CheckResult:
    """Check ``nodes`` (the explicit graph) node by node in data-flow order."""
    result = CheckResult()
    if not nodes:
        return result
    try:
        ctx = model_context(recipe)
    except ImportError:
        ctx = None
    by_id = {str(node.get("id")): node for node in nodes}
    for node_id in _order(nodes, result):
        node = by_id[node_id]
        info = blocks.get(str(node.get("block")))
        if info is None:
            names = ", ".join(sorted(blocks)[:8])
            result.add(node_id, f"Unknown block type '{node.get('block')}'. Known blocks include: {names}.")
            result.shapes[node_id] = None
            continue
        inputs = [str(name) for name in node.get("inputs", [])]
        for name in inputs:
            if name not in by_id:
                result.add(node_id, f"Input '{name}' does not exist; connect an existing block instead.")
        needed = 2 if info.variadic else len(info.inputs)
        if len(inputs) < needed:
            result.add(node_id, f"Needs {needed} connected input(s), has {len(inputs)}. Connect "
                       f"the left-side port{'s' if needed > 1 else ''}.")
        params = _params(node, info, result)
        in_shapes = [result.shapes.get(name) for name in inputs]
        if params is None or ctx is None or info.cls is None or any(s is None for s in in_shapes) or (
            len(inputs) < needed
        ):
            result.shapes[node_id] = None
            continue
        result.shapes[node_id] = _infer(info, node_id, params, ctx, inputs, in_shapes, result)
    return result


def _params(node: dict[str, Any], info: BlockInfo, result: CheckResult) -> Any:
    from pydantic import ValidationError

    if info.params_model is None:
        return {}
    try:
        return info.params_model.model_validate(node.get("params") or {})
    except ValidationError as error:
        for item in error.errors():
            key = ".".join(str(part) for part in item["loc"]) or "params"
            result.add(str(node["id"]), f"params.{key}: {item['msg']}")
        return None


def _infer(info: BlockInfo, node_id: str, params: Any, ctx: Any, inputs: list[str], in_shapes: list[Any],
           result: CheckResult) -> Any:
    from builder.errors import CellwrightError

    try:
        block = info.cls(node_id, params, ctx, inputs)
        shapes = [next(iter(s.values())) if isinstance(s, dict) else s for s in in_shapes]
        return block.infer(shapes)
    except CellwrightError as error:
        result.add(node_id, error.what + (f" Fix: {error.fix}" if error.fix else ""))
    except Exception as error:
        result.add(node_id, f"Shape check failed: {error}")
    return None


def _order(nodes: list[dict[str, Any]], result: CheckResult) -> list[str]:
    """Node ids with every node after its inputs; nodes in a loop are reported and left out."""
    by_id = {str(node.get("id")): node for node in nodes}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(node_id: str) -> None:
        state[node_id] = 1
        for name in by_id[node_id].get("inputs", []):
            name = str(name)
            if name in by_id and state.get(name) == 1:
                result.add(node_id, f"'{node_id}' and '{name}' feed each other (a loop); remove one connection.")
            elif name in by_id and name not in state:
                visit(name)
        state[node_id] = 2
        order.append(node_id)

    for node_id in by_id:
        if node_id not in state:
            visit(node_id)
    return order

"""The engine's graph checks, as the editor shows them (no second checker, no TensorFlow).

:func:`check` runs :func:`builder.graph_checks.find_problems` with the engine's own model context
(:func:`builder.model_context.context_from_data`), so red marks, tooltips and the status line show exactly
the problems ``cellwright build`` reports, rendered by the engine's errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder.blocks.registry import kind_of, shape_text

__all__ = ["GRAPH_KEY", "check", "default_port", "edge_shape", "kind_of", "node_kinds", "node_texts",
           "summary"]
from builder.errors import CellwrightError
from builder.graph_checks import GraphReport, find_problems
from builder.model_context import context_from_data

#: Recipe key of an explicit graph: problems carry key paths such as ``model.graph[3].params.filters``.
GRAPH_KEY = "model.graph"


def check(recipe: dict[str, Any], nodes: list[dict[str, Any]], path: str | Path | None = None) -> GraphReport:
    """Check ``nodes`` (the document's graph) in the context of ``recipe`` (the document's data)."""
    base_dir = Path(path).parent if path else None
    return find_problems(nodes, context_from_data(recipe, base_dir), key_prefix=GRAPH_KEY)


def node_texts(report: GraphReport, node_id: str) -> list[str]:
    """The problems at ``node_id`` as the node's tooltip lists them (message, then the fix)."""
    return [_short(problem) for problem in report.problems_at(node_id)]


def _short(problem: CellwrightError) -> str:
    return problem.message() + (f" Fix: {problem.fix}" if problem.fix else "")


def summary(report: GraphReport) -> str:
    """One status line: how many problems, and the first one in full (empty when there are none)."""
    if not report.problems:
        return ""
    count = len(report.problems)
    head = f"{count} problem{'s' if count != 1 else ''} in the graph. " if count > 1 else ""
    return head + report.problems[0].format().replace("\n    fix:", " — fix:")


def edge_shape(report: GraphReport, ref: str) -> str:
    """``(B, 64, 64, 16)`` for the tensor an input reference carries (empty when unknown)."""
    shape = report.shape_of(ref)
    return shape_text(shape) if shape is not None else ""


def node_kinds(report: GraphReport) -> dict[str, str]:
    """Tensor kind ("image", "vector") of every node's default output, where known."""
    kinds = {}
    for node_id, node in report.nodes.items():
        shape = node.shapes.get(default_port(report, node_id))
        if shape is not None:
            kinds[node_id] = kind_of(shape)
    return kinds


def default_port(report: GraphReport, node_id: str) -> str:
    """The output port an input naming only ``node_id`` means (empty when the node could not be checked)."""
    node = report.nodes.get(node_id)
    try:
        return node.default_port() if node is not None else ""
    except CellwrightError:  # e.g. a shared backbone file that cannot be read (reported on the node)
        return ""

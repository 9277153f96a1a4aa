"""``builder`` has no import circles: every module can be understood (and imported) after the ones it uses.

Imports under ``if TYPE_CHECKING:`` do not count: they only name types for mypy (``tasks`` annotates with
``Recipe`` while the recipe schema imports ``tasks`` at run time).
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def _type_checking_lines(module: str) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks of ``module``."""
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    lines: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _runtime_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """``module -> modules it imports when it runs`` (inside builder; type-only imports left out)."""
    modules = set(graph.modules)
    edges: dict[str, set[str]] = {}
    for module in modules:
        typing_only = _type_checking_lines(module)
        edges[module] = set()
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            if module.startswith(imported + "."):
                continue  # a sub-module importing its own package (re-exports in __init__) is not a circle
            details = graph.get_import_details(importer=module, imported=imported)
            if any(d["line_number"] not in typing_only for d in details):
                edges[module].add(imported)
    return edges


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_type_only_imports_are_left_out():
    edges = _runtime_edges(grimp.build_graph("builder", include_external_packages=False))
    assert "builder.recipe" not in edges["builder.tasks.base"]  # imported for annotations only
    assert "builder.tasks" in edges["builder.recipe.schema"]  # imported at run time


def test_builder_has_no_import_circles():
    edges = _runtime_edges(grimp.build_graph("builder", include_external_packages=False))
    assert _circles(edges) == []

"""The two import circles stay broken: backbones -> export and weights <-> backbones (grimp, no side effects)."""

from __future__ import annotations

import grimp
import pytest


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("builder", include_external_packages=True)


def _package_cycles(graph) -> set[tuple[str, str]]:
    top = {m: ".".join(m.split(".")[:2]) for m in graph.modules if m.startswith("builder.")}
    edges = {(top[m], top[i]) for m in top for i in graph.find_modules_directly_imported_by(m)
             if i in top and top[m] != top[i]}
    return {(a, b) for a, b in edges if (b, a) in edges and a < b}


def test_backbones_reach_no_exporter(graph):
    assert not graph.find_shortest_chains("builder.backbones", "builder.export", as_packages=True)


def test_no_circle_between_backbones_weights_export_and_model_files(graph):
    involved = {"builder.backbones", "builder.weights", "builder.export", "builder.model_files"}
    assert {pair for pair in _package_cycles(graph) if set(pair) <= involved} == set()
    assert "builder.weights" not in graph.modules  # weights belong to the backbones package now


def test_model_files_import_nothing_above_them(graph):
    above = ("builder.export", "builder.backbones", "builder.blocks", "builder.recipe", "builder.templates")
    for package in above:
        assert not graph.find_shortest_chains("builder.model_files", package, as_packages=True), package

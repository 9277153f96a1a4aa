"""One error type: structured location, one rendering, and the older constructors still work."""

from __future__ import annotations

import pickle

from builder.errors import CellwrightError, DataError, GraphError, GraphProblemsError, Problem, RecipeError


def test_structured_location_renders_in_cli_format():
    error = CellwrightError(file="recipe.yaml", line=14, column=5, key="model.graph[3].params.filters",
                            what="The number of filters is invalid.", expected="an integer >= 1",
                            received="filters=0", fix="Use a positive number.")
    assert error.format() == (
        "recipe.yaml:14:5 model.graph[3].params.filters: The number of filters is invalid. "
        "Expected an integer >= 1. Received: filters=0.\n    fix: Use a positive number."
    )
    data = error.to_dict()
    assert (data["file"], data["line"], data["column"], data["key"]) == ("recipe.yaml", 14, 5,
                                                                         "model.graph[3].params.filters")
    assert data["expected"] == "an integer >= 1" and data["received"] == "filters=0"
    assert data["severity"] == "error" and data["type"] == "CellwrightError"


def test_node_port_and_parameter_are_located():
    error = GraphError(what="Shapes differ.", node="cat1", block="concatenate", port="input", fix="Crop.")
    assert error.where == "node 'cat1' (concatenate) port 'input'"
    assert error.to_dict()["node"] == "cat1" and error.to_dict()["port"] == "input"
    param = GraphError(what="Too small.", node="conv", param="filters")
    assert param.format() == "node 'conv' params.filters: Too small."


def test_old_constructors_keep_working():
    old = CellwrightError("data/img.tif", "cannot be read.", "Re-save it as TIFF.")
    assert old.format() == "data/img.tif: cannot be read.\n    fix: Re-save it as TIFF."
    problem = Problem(where="r.yaml:3:1 train.epochs", what="Expected an integer.", fix="Write a number.",
                      severity="warning", key="train.epochs", line=3, column=1)
    assert Problem is CellwrightError and isinstance(problem, CellwrightError)
    assert problem.format() == "r.yaml:3:1 train.epochs: Expected an integer.\n    fix: Write a number."
    assert problem.file == "r.yaml" and problem.to_dict()["severity"] == "warning"
    positional = Problem("folder", "is empty.", "Add images.", "info")
    assert positional.severity == "info"
    problem.where = "r.yaml:4:1 train.epochs"  # the loader moves locations after the fact
    assert problem.format().startswith("r.yaml:4:1 train.epochs:")


def test_lists_and_pickling_keep_every_part():
    problems = [Problem(where="a", what="one."), DataError(what="two.", file="b.tif")]
    listing = RecipeError(problems, source="r.yaml")
    assert listing.format() == "2 problems found in r.yaml:\n  a: one.\n  b.tif: two."
    graph = GraphProblemsError([GraphError(what="bad.", node="n1", fix="fix it")])
    assert isinstance(graph, GraphError) and graph.fix == "fix it"
    assert graph.to_dict()["problems"][0]["node"] == "n1"
    copy = pickle.loads(pickle.dumps(graph))
    assert copy.problems[0].node == "n1" and copy.format() == graph.format()

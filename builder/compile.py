"""Turn the ``model:`` section of a recipe into a Keras 3 model (functional API).

The graph is checked statically first (:mod:`builder.graph_checks`); only then is Keras imported and each
node built, in order, as a layer (or nested model) named after the node id.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from builder.blocks.context import ModelContext
from builder.graph_checks import GraphReport, as_dicts, check_graph
from builder.model_context import model_context

if TYPE_CHECKING:  # pragma: no cover
    from builder.recipe.schema import Recipe

__all__ = [
    "ModelContext", "check_graph", "compile_graph", "compile_recipe_model", "expand_model", "model_context",
]


def expand_model(recipe: Recipe, ctx: ModelContext | None = None) -> list[dict[str, Any]]:
    """The model as an explicit graph: the template expanded, or the recipe's own graph."""
    model = recipe.model
    if model.graph is not None:
        return as_dicts(model.graph)
    from builder.templates import get_template

    template = get_template(model.template)
    ctx = ctx or model_context(recipe)
    return template.expand(template.Params.model_validate(model.params), ctx)


def compile_graph(nodes: list[Any], ctx: ModelContext | None = None, *, name: str = "cellwright_model") -> Any:
    """Build a ``keras.Model`` from graph nodes ``{id, block, params, inputs}``.

    Raises
    ------
    GraphError
        When the static checks fail (nothing is built then).
    """
    ctx = ctx or ModelContext()
    report = check_graph(nodes, ctx)
    return build_checked(report, ctx, name=name)


def build_checked(report: GraphReport, ctx: ModelContext, *, name: str = "cellwright_model") -> Any:
    """Build the Keras model of a graph that :func:`check_graph` accepted."""
    import keras

    build_ctx = replace(ctx, fixed_size=report.fixed_size)
    outputs: dict[str, dict[str, Any]] = {}
    for node_id in report.order:
        node = report.nodes[node_id]
        node.block.ctx = build_ctx
        tensors = [outputs[source][port] for source, port in node.inputs]
        result = node.block.build(tensors)
        outputs[node_id] = result if isinstance(result, dict) else {node.default_port(): result}
    inputs = [outputs[i][report.nodes[i].default_port()] for i in report.inputs]
    out_node = report.nodes[report.output]
    return keras.Model(
        inputs[0] if len(inputs) == 1 else inputs, outputs[report.output][out_node.default_port()], name=name
    )


def compile_recipe_model(
    recipe: Recipe,
    input_shape: tuple | None = None,
    *,
    n_classes: int | None = None,
    n_outputs: int | None = None,
) -> Any:
    """Build the Keras model described by ``recipe.model`` (template or graph); see :func:`model_context`."""
    ctx = model_context(recipe, input_shape, n_classes=n_classes, n_outputs=n_outputs)
    return compile_graph(expand_model(recipe, ctx), ctx, name=_model_name(recipe.name))


def _model_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in name).strip("_")
    return cleaned or "cellwright_model"

"""``cellwright build RECIPE``: compile the model, print each node's output shape and parameters, draw it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.cli.output import emit_json, say

if TYPE_CHECKING:
    from builder.recipe import Recipe

NAME = "build"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Build the recipe's model: per-node output shapes, parameter counts and a diagram (PNG).",
        description="Check and build the model of a recipe. Prints every node with its output shape and number "
        "of parameters and writes a diagram of the graph.",
    )
    parser.add_argument("recipe", metavar="RECIPE", help="Recipe YAML file.")
    parser.add_argument("--diagram", metavar="PNG",
                        help="Where to write the diagram (default: next to the recipe, <recipe>.graph.png).")
    parser.add_argument("--no-diagram", action="store_true", help="Do not draw the diagram.")
    parser.add_argument("--size", type=int, metavar="PX", help="Input size for the shapes (default: patch size).")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON (for the GUI and scripts).")
    parser.set_defaults(func=run)


def classes_in_data(recipe: Recipe) -> int | None:
    """Output classes the recipe's data imply when ``data.classes`` is not given (None when unknown)."""
    if recipe.data.classes:
        return None
    from builder.data.layouts import discover
    from builder.errors import CellwrightError
    from builder.tasks import get_task

    try:
        return get_task(recipe.task).count_classes(recipe, discover(recipe, recipe.base_dir))
    except (CellwrightError, OSError):
        return None  # no data yet: the default head is shown


def build_summary(recipe: Recipe, size: int | None = None) -> tuple[Any, list[dict[str, Any]], Any]:
    """Compile ``recipe``'s model; return (keras model, one row per node, the graph report)."""
    from builder.compile import build_checked, check_graph, expand_model, model_context

    ctx = model_context(recipe, n_classes=classes_in_data(recipe))
    if size:
        ctx = model_context(recipe, (size, size, ctx.input_shape[-1]), n_classes=ctx.n_classes)
    key_prefix = "model.graph" if recipe.model.graph is not None else ""  # problems then carry recipe keys
    report = check_graph(expand_model(recipe, ctx), ctx, key_prefix=key_prefix)
    model = build_checked(report, ctx, name="model")
    names = {layer.name for layer in model.layers}
    rows = []
    for node_id in report.order:
        node = report.nodes[node_id]
        count = model.get_layer(node_id).count_params() if node_id in names and node.block.category != "Input" else 0
        rows.append({
            "id": node_id, "block": node.block.name, "inputs": [f"{s}.{p}" if len(report.nodes[s].shapes) > 1 else s
                                                                 for s, p in node.inputs],
            "shapes": {port: list(shape) for port, shape in node.shapes.items()}, "params": count,
        })
    return model, rows, report


def run(args: argparse.Namespace) -> int:
    from builder.blocks.registry import shape_text
    from builder.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    model, rows, report = build_summary(recipe, args.size)
    total = int(model.count_params())
    trainable = int(sum(int(w.numpy().size) for w in model.trainable_weights))
    diagram = None
    if not args.no_diagram:
        from builder.graph_diagram import draw_graph

        diagram = Path(args.diagram) if args.diagram else Path(args.recipe).with_suffix(".graph.png")
        draw_graph(report, diagram, title=f"{recipe.name}: {total:,} parameters",
                   params={r["id"]: r["params"] for r in rows})
    if args.json:
        emit_json({"ok": True, "nodes": rows, "total_params": total, "trainable_params": trainable,
                   "downsampling_factor": report.factor, "output": report.output,
                   "diagram": str(diagram) if diagram else None})
        return 0
    say(f"{'node':<20} {'block':<24} {'output shape':<26} {'params':>10}")
    for row in rows:
        shapes = ", ".join(shape_text(tuple(s)) for s in row["shapes"].values())
        say(f"{row['id']:<20} {row['block']:<24} {shapes:<26} {row['params']:>10,}")
    say(f"total parameters: {total:,} (trainable {trainable:,}); down-sampling factor {report.factor}; "
        f"output '{report.output}'")
    if diagram:
        say(f"diagram: {diagram}")
    return 0

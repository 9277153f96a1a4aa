"""``cellwright expand RECIPE``: print the model as an explicit graph that can be pasted back into the recipe."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.cli.output import emit_json, say

if TYPE_CHECKING:
    from builder.recipe import Recipe

NAME = "expand"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Print the model template expanded into an explicit graph of blocks (YAML).",
        description="Print a 'model:' section with the template expanded into nodes. Paste it over the recipe's "
        "'model:' section to edit the architecture block by block; it compiles to the same network.",
    )
    parser.add_argument("recipe", metavar="RECIPE", help="Recipe YAML file.")
    parser.add_argument("--out", metavar="FILE", help="Also write the YAML to this file.")
    parser.add_argument("--json", action="store_true", help="Print the nodes as JSON instead of YAML.")
    parser.set_defaults(func=run)


def compact_nodes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nodes with default parameter values left out (they compile to the same model)."""
    from builder.blocks.registry import get_block

    out = []
    for node in nodes:
        params = get_block(node["block"]).Params.model_validate(node.get("params") or {})
        item: dict[str, Any] = {"id": node["id"], "block": node["block"]}
        compact = params.model_dump(mode="json", exclude_defaults=True)
        if compact:
            item["params"] = compact
        if node.get("inputs"):
            item["inputs"] = list(node["inputs"])
        out.append(item)
    return out


def expanded_yaml(recipe: Recipe) -> str:
    """The ``model:`` section of ``recipe`` with its template expanded, as YAML text."""
    import yaml

    from builder.compile import expand_model

    nodes = compact_nodes(expand_model(recipe))
    origin = f"template '{recipe.model.template}'" if recipe.model.template else "graph"
    header = (f"# Model of recipe '{recipe.name}' ({origin}) as an explicit graph.\n"
              "# Replace the recipe's 'model:' section with the lines below to edit it node by node.\n")
    return header + yaml.safe_dump({"model": {"graph": nodes}}, sort_keys=False, default_flow_style=None, width=110)


def run(args: argparse.Namespace) -> int:
    from builder.compile import expand_model
    from builder.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    if args.json:
        emit_json({"ok": True, "graph": compact_nodes(expand_model(recipe))})
        return 0
    text = expanded_yaml(recipe)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    say(text.rstrip("\n"))
    return 0

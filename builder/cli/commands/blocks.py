"""``cellwright blocks [NAME]``: list the block types for model graphs, or show one block's parameters."""

from __future__ import annotations

import argparse
from typing import Any

from builder.cli.output import emit_json, say

NAME = "blocks"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="List the blocks a model graph can use, or show one block's parameters.",
        description="Without NAME: every block by category. With NAME: its ports and parameters.",
    )
    parser.add_argument("name", nargs="?", help="Block name, e.g. conv_block.")
    parser.add_argument("--json", action="store_true", help="Print as JSON (for the GUI and scripts).")
    parser.set_defaults(func=run)


def describe_params(schema: dict[str, Any]) -> list[str]:
    """One line per parameter of a Params JSON Schema: name, type, default and help."""
    lines = []
    required = set(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        kind = prop.get("type") or "/".join(
            str(p.get("type", p.get("$ref", "?").split("/")[-1])) for p in prop.get("anyOf", [])
        ) or "?"
        if "enum" in prop:
            kind = "|".join(map(str, prop["enum"]))
        default = "(required)" if key in required else f"= {prop.get('default')!r}"
        lines.append(f"  {key}: {kind} {default}\n      {prop.get('description', '')}")
    return lines


def run(args: argparse.Namespace) -> int:
    from builder.blocks.registry import all_blocks, get_block

    if args.name:
        info = get_block(args.name).describe()
        if args.json:
            emit_json(info)
            return 0
        say(f"{info['name']} ({info['category']}): {info['summary']}")
        ins = ", ".join(f"{p['name']} [{p['kind']}]" for p in info["inputs"]) or "none"
        outs = ", ".join(f"{p['name']} [{p['kind']}]" for p in info["outputs"])
        say(f"inputs: {ins}{' (two or more)' if info['variadic'] else ''}")
        say(f"outputs: {outs}")
        say("parameters:" if info["params_schema"].get("properties") else "parameters: none")
        for line in describe_params(info["params_schema"]):
            say(line)
        return 0
    blocks = all_blocks()
    if args.json:
        emit_json([cls.describe() for cls in blocks.values()])
        return 0
    by_category: dict[str, list[Any]] = {}
    for cls in blocks.values():
        by_category.setdefault(cls.category, []).append(cls)
    for category, classes in by_category.items():
        say(f"{category}:")
        for cls in classes:
            say(f"  {cls.name:<26} {cls.summary()}")
    say("\nRun 'cellwright blocks NAME' for the parameters of one block.")
    return 0

"""``cellwright templates [NAME]``: list the architecture templates, or show one template's parameters."""

from __future__ import annotations

import argparse

from builder.cli.output import emit_json, say

NAME = "templates"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="List the architecture templates (unet, fpn, classifier, restoration) and their parameters.",
        description="Without NAME: every template and its tasks. With NAME: its parameters.",
    )
    parser.add_argument("name", nargs="?", help="Template name, e.g. unet.")
    parser.add_argument("--json", action="store_true", help="Print as JSON (for the GUI and scripts).")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.cli.commands.blocks import describe_params
    from builder.templates import all_templates, get_template

    if args.name:
        info = get_template(args.name).describe()
        if args.json:
            emit_json(info)
            return 0
        say(f"{info['name']}: {info['summary']}")
        say(f"tasks: {', '.join(info['tasks'])}")
        say("parameters (model.params):")
        for line in describe_params(info["params_schema"]):
            say(line)
        return 0
    templates = all_templates()
    if args.json:
        emit_json([t.describe() for t in templates.values()])
        return 0
    for template in templates.values():
        say(f"{template.name:<12} {template.summary()}\n{'':<12} tasks: {', '.join(template.tasks())}")
    say("\nRun 'cellwright templates NAME' for the parameters of one template.")
    return 0

"""Which template an explicit graph came from, and whether it can go back to it (no Qt, no TensorFlow).

Expanding a template writes its graph into the recipe; the document remembers a fingerprint of that
graph with the template name and parameters. Collapsing is allowed only while the graph still has that
fingerprint, so edits made to the blocks are never thrown away; otherwise :func:`graph_changes` says
what was changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

Nodes = list[dict[str, Any]]


def _clean(value: Any) -> Any:
    """Drop ``None`` entries (they mean "default") so ``groups: null`` equals a missing ``groups``."""
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    return value


def normalize(node: dict[str, Any]) -> dict[str, Any]:
    """The parts of a node that define the network: id, block, parameters and inputs."""
    return {"id": str(node.get("id")), "block": str(node.get("block")), "params": _clean(node.get("params") or {}),
            "inputs": [str(source) for source in node.get("inputs") or []]}


def fingerprint(nodes: Nodes) -> str:
    """A short hash of the graph that ignores node order, positions and ``None`` parameters."""
    canon = sorted((normalize(node) for node in nodes if isinstance(node, dict)), key=lambda node: node["id"])
    text = json.dumps(canon, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def graph_changes(original: Nodes, current: Nodes, limit: int = 6) -> list[str]:
    """Plain lines saying how ``current`` differs from ``original`` (empty when they are the same network)."""
    before = {node["id"]: node for node in map(normalize, original)}
    after = {node["id"]: node for node in map(normalize, current)}
    lines = [f"added block '{key}'" for key in after if key not in before]
    lines += [f"removed block '{key}'" for key in before if key not in after]
    for key in (key for key in after if key in before):
        old, new = before[key], after[key]
        if old["block"] != new["block"]:
            lines.append(f"'{key}' is now a {new['block']} (was {old['block']})")
        if old["inputs"] != new["inputs"]:
            lines.append(f"changed the connections into '{key}'")
        for name in sorted(set(old["params"]) | set(new["params"])):
            if old["params"].get(name) != new["params"].get(name):
                lines.append(f"'{key}': {name} {_show(old['params'].get(name))} → {_show(new['params'].get(name))}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"and {len(lines) - limit} more change(s)"]
    return lines


def _show(value: Any) -> str:
    return "(default)" if value is None else json.dumps(value) if not isinstance(value, str) else value


def key_params(params: dict[str, Any], schema: dict[str, Any] | None = None, limit: int = 4) -> list[str]:
    """Short ``name value`` texts for a template node: the parameters set in the recipe, then common defaults."""
    shown: dict[str, Any] = {key: value for key, value in (params or {}).items() if value is not None}
    props = (schema or {}).get("properties", {})
    for name, prop in props.items():
        if len(shown) >= limit:
            break
        ui = prop.get("x-cellwright", {}) if isinstance(prop, dict) else {}
        if name not in shown and ui.get("commonly_used") and "default" in prop and prop["default"] is not None:
            shown[name] = prop["default"]
    texts = []
    for name, value in list(shown.items())[:limit]:
        if isinstance(value, dict):
            value = value.get("name") or "on"
        elif isinstance(value, bool):
            value = "on" if value else "off"
        texts.append(f"{name} {value}")
    return texts


def cannot_collapse_message(name: str, changes: list[str]) -> str:
    """Why the graph cannot go back to template ``name`` (it was edited after expanding)."""
    listed = "; ".join(changes) if changes else "its blocks differ from what the template makes now"
    return (f"The model cannot collapse back into the '{name}' template because the expanded graph was edited "
            f"({listed}). Collapsing would throw these edits away, so the graph stays as it is. Undo the edits "
            "(Ctrl+Z) to collapse, or keep working with the blocks.")


NO_TEMPLATE_MESSAGE = ("This model is an explicit graph that was not made by expanding a template, so there is no "
                       "template to collapse it into. Pick a template in the Model section to start from one.")

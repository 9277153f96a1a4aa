"""Input references of graph nodes: ``node`` or ``node.port`` (e.g. ``encoder.s8`` of a backbone).

The checker, the compiler and the GUI editor read and rewrite references only through these functions,
so a port reference is never mistaken for a node id.
"""

from __future__ import annotations

from typing import Any


def split_ref(ref: Any) -> tuple[str, str]:
    """``("encoder", "s8")`` for ``"encoder.s8"``; ``("conv", "")`` for ``"conv"`` (node ids have no dots)."""
    node, _, port = str(ref).partition(".")
    return node, port


def source_of(ref: Any) -> str:
    """The node id a reference names (``encoder`` for ``encoder.s8``)."""
    return split_ref(ref)[0]


def make_ref(node: str, port: str = "") -> str:
    """``node.port``, or ``node`` when ``port`` is empty."""
    return f"{node}.{port}" if port else node


def rename_ref(ref: Any, old: str, new: str) -> str:
    """``ref`` with node id ``old`` replaced by ``new``, keeping its port (``old.s32`` -> ``new.s32``)."""
    node, port = split_ref(ref)
    return make_ref(new, port) if node == old else str(ref)

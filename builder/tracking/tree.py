"""Layout of a lineage tree (no plotting): one row per track, a mother between its daughters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def tree_rows(tracks: Sequence[Mapping[str, Any]]) -> dict[int, float]:
    """Row of every track in a lineage tree: daughters around their mother, roots one after another.

    ``tracks``: mappings with ``label``, ``begin`` and ``parent`` (e.g. ``metrics.json``'s ``tracks``).
    """
    children: dict[int, list[int]] = {}
    labels = {int(t["label"]) for t in tracks}
    roots = []
    for t in sorted(tracks, key=lambda t: (t["begin"], t["label"])):
        parent = int(t.get("parent") or 0)
        if parent in labels:
            children.setdefault(parent, []).append(int(t["label"]))
        else:
            roots.append(int(t["label"]))
    y: dict[int, float] = {}
    row = [0.0]

    def place(label: int) -> float:
        kids = children.get(label, [])
        if not kids:
            y[label] = row[0]
            row[0] += 1
        else:
            y[label] = float(np.mean([place(k) for k in kids]))
        return y[label]

    for root in roots:
        place(root)
    return y

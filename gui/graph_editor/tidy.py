"""Compact automatic layout of a model graph ("Tidy layout"; no Qt).

Blocks are placed left to right by graph depth (the longest path from the input), as in a layered drawing;
blocks of the same depth are stacked. A deep network (an 18-24 block U-Net or FPN) would then be one long
row that "Fit" can only show at ~10 % zoom, so the columns are wrapped into bands, like lines of text: the
number of columns per band is chosen so that the whole graph, with the pipeline stages drawn beside it,
fills the canvas at the largest zoom. Connections that go back to the left (to the next band, or a skip
connection to a later band) are routed through the gaps between bands by the edge item, so wrapping never
spreads the layers apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gui.graph_editor.graph import layers

Nodes = list[dict[str, Any]]
Positions = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Spacing:
    """Sizes in scene units: block width, gaps between columns / stacked blocks / bands, and the room the
    pipeline stages and frame take around the graph (``extra_width``, ``extra_height``)."""

    node_width: float = 180.0
    column_gap: float = 56.0
    row_gap: float = 26.0
    band_gap: float = 64.0
    extra_width: float = 470.0
    extra_height: float = 350.0
    default_height: float = 54.0


@dataclass(frozen=True)
class Plan:
    """One way to wrap the layers: ``columns`` per band, its size and the zoom at which it fits the area."""

    columns: int
    width: float
    height: float
    zoom: float


def _columns(nodes: Nodes) -> list[list[str]]:
    """Node ids per depth (graph order kept inside a depth)."""
    depth = layers(nodes)
    count = max(depth.values(), default=-1) + 1
    out: list[list[str]] = [[] for _ in range(count)]
    for node in nodes:
        out[depth.get(str(node["id"]), 0)].append(str(node["id"]))
    return out


def _stack_height(ids: list[str], heights: dict[str, float], spacing: Spacing) -> float:
    return sum(heights.get(i, spacing.default_height) for i in ids) + spacing.row_gap * max(len(ids) - 1, 0)


def _band_heights(columns: list[list[str]], per_band: int, heights: dict[str, float], spacing: Spacing
                  ) -> list[float]:
    return [max(_stack_height(ids, heights, spacing) for ids in columns[start:start + per_band])
            for start in range(0, len(columns), per_band)]


def plans(nodes: Nodes, area: tuple[float, float], heights: dict[str, float] | None = None,
          spacing: Spacing = Spacing()) -> list[Plan]:
    """Every wrapping (1 column per band up to all columns in one band) with the zoom at which it fits ``area``
    (the canvas in pixels, width and height)."""
    heights = heights or {}
    columns = _columns(nodes)
    pitch = spacing.node_width + spacing.column_gap
    out = []
    for per_band in range(1, len(columns) + 1):
        bands = _band_heights(columns, per_band, heights, spacing)
        width = per_band * pitch - spacing.column_gap
        height = sum(bands) + spacing.band_gap * (len(bands) - 1)
        zoom = min(area[0] / (width + spacing.extra_width), area[1] / (height + spacing.extra_height))
        out.append(Plan(per_band, width, height, zoom))
    return out


def choose(candidates: list[Plan], max_zoom: float = 1.0, tolerance: float = 0.9) -> Plan:
    """The plan with the largest zoom (capped at ``max_zoom``, since Fit never enlarges past 100 %); among plans
    within ``tolerance`` of it, the one with the fewest bands (long bands read more like the network)."""
    best = max(min(plan.zoom, max_zoom) for plan in candidates)
    good = [plan for plan in candidates if min(plan.zoom, max_zoom) >= tolerance * best]
    return max(good, key=lambda plan: plan.columns)


def tidy_layout(nodes: Nodes, area: tuple[float, float] = (900.0, 680.0), heights: dict[str, float] | None = None,
                spacing: Spacing = Spacing()) -> Positions:
    """Top-left positions of every node: layered by depth, wrapped into bands that fit ``area`` best.

    Parameters
    ----------
    nodes : list of dict
        The recipe's ``model.graph`` nodes (``id``, ``inputs``).
    area : (float, float)
        Width and height of the canvas in pixels (the view's viewport).
    heights : dict, optional
        Height of each drawn block (blocks with several ports are taller); default ``spacing.default_height``.
    """
    if not nodes:
        return {}
    heights = heights or {}
    columns = _columns(nodes)
    plan = choose(plans(nodes, area, heights, spacing))
    bands = _band_heights(columns, plan.columns, heights, spacing)
    pitch = spacing.node_width + spacing.column_gap
    positions: Positions = {}
    top = 0.0
    for band, band_height in enumerate(bands):
        for offset, ids in enumerate(columns[band * plan.columns:(band + 1) * plan.columns]):
            y = top
            for node_id in ids:
                positions[node_id] = (offset * pitch, y)
                y += heights.get(node_id, spacing.default_height) + spacing.row_gap
        top += band_height + spacing.band_gap
    return positions

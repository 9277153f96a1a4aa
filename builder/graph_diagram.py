"""Draw a model graph as a PNG with matplotlib (no graphviz needed)."""

from __future__ import annotations

from pathlib import Path

from builder.blocks.registry import shape_text
from builder.graph_checks import GraphReport

_COLOURS = {
    "Input": "#cfe8ff", "Convolution": "#ffe2b8", "Composite": "#ffd0a0", "Pooling": "#d8f0d0",
    "Resampling": "#d0f0e8", "Merge": "#ead7ff", "Head": "#ffc8c8", "Backbone": "#f5e6a8",
}


def layers_of(report: GraphReport) -> dict[str, int]:
    """Row of every node: the longest path from an input node."""
    row: dict[str, int] = {}
    for node_id in report.order:
        sources = [s for s, _ in report.nodes[node_id].inputs]
        row[node_id] = 1 + max((row[s] for s in sources), default=-1)
    return row


def draw_graph(report: GraphReport, path: str | Path, *, title: str = "", params: dict[str, int] | None = None) -> Path:
    """Write a diagram of the checked graph to ``path`` (PNG); returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    rows = layers_of(report)
    columns: dict[int, list[str]] = {}
    for node_id in report.order:
        columns.setdefault(rows[node_id], []).append(node_id)
    width = max(len(v) for v in columns.values())
    height = len(columns)
    pos = {}
    for r, ids in columns.items():
        for i, node_id in enumerate(ids):
            pos[node_id] = ((i - (len(ids) - 1) / 2) * 3.2, -r * 1.1)
    fig, ax = plt.subplots(figsize=(max(6.0, 3.4 * width), max(3.0, 0.9 * height + 1)))
    for node_id in report.order:
        node = report.nodes[node_id]
        x, y = pos[node_id]
        for source, _port in node.inputs:
            sx, sy = pos[source]
            skip = rows[node_id] - rows[source] > 1
            ax.annotate(
                "", xy=(x, y + 0.3), xytext=(sx, sy - 0.3),
                arrowprops={"arrowstyle": "->", "color": "#888888" if skip else "#333333", "lw": 0.8,
                            "connectionstyle": "arc3,rad=0.35" if skip else "arc3"},
            )
        colour = _COLOURS.get(node.block.category, "#eeeeee")
        ax.add_patch(FancyBboxPatch((x - 1.4, y - 0.3), 2.8, 0.6, boxstyle="round,pad=0.02", fc=colour, ec="#555555"))
        shape = ", ".join(f"{p}: {shape_text(s)}" for p, s in node.shapes.items()) if len(node.shapes) > 1 \
            else shape_text(node.shape)
        extra = f"  {params[node_id]:,} params" if params and params.get(node_id) else ""
        ax.text(x, y + 0.08, f"{node_id} ({node.block.name})", ha="center", va="center", fontsize=7, weight="bold")
        ax.text(x, y - 0.14, shape + extra, ha="center", va="center", fontsize=6)
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - 2, max(xs) + 2)
    ax.set_ylim(-(height - 1) * 1.1 - 0.8, 0.8)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path

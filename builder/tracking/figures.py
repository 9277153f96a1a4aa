"""Tracking figures for the report: a lineage tree and test frames with track outlines, ids and tails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from builder.tracking.colours import track_colour, track_colours

__all__ = ["lineage_tree", "track_colour", "track_colours", "track_overlays"]


def _layout(tracks: Sequence[Mapping[str, Any]]) -> dict[int, float]:
    """Vertical position of every track: daughters around their mother, roots one after another."""
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


def lineage_tree(tracks: Sequence[Mapping[str, Any]], *, max_tracks: int = 200) -> bytes | None:
    """PNG of the lineage: one horizontal line per track over its frames, divisions drawn as forks."""
    from builder.report.figures import new_figure, to_png

    tracks = list(tracks)[:max_tracks]
    if not tracks:
        return None
    y = _layout(tracks)
    by_label = {int(t["label"]): t for t in tracks}
    fig = new_figure(8.0, min(10.0, 1.5 + 0.12 * len(y)))
    ax = fig.add_subplot(1, 1, 1)
    for t in tracks:
        label = int(t["label"])
        colour = track_colour(label)
        ax.plot([t["begin"], t["end"] + 0.9], [y[label], y[label]], color=colour, linewidth=2)
        parent = by_label.get(int(t.get("parent") or 0))
        if parent is not None:
            ax.plot([parent["end"] + 0.9, t["begin"]], [y[int(parent["label"])], y[label]], color="0.4",
                    linewidth=1)
    ax.set_xlabel("frame")
    ax.set_yticks([])
    ax.invert_yaxis()
    ax.set_title(f"Lineage of {len(tracks)} tracks (forks are divisions)")
    return to_png(fig)


def track_overlays(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], *, n_panels: int = 4,
                   tail: int = 5) -> bytes | None:
    """PNG of evenly spaced frames: each cell outlined in its track's colour with its id and its recent path."""
    from skimage.segmentation import find_boundaries

    from builder.report.figures import display, new_figure, to_png
    from builder.tracking.detections import frame_objects

    if not len(masks):
        return None
    masks = [np.asarray(m) for m in masks]
    centres = [dict(zip(o.labels.tolist(), o.centroids, strict=True)) for o in (frame_objects(m) for m in masks)]
    picks = sorted(set(np.linspace(0, len(masks) - 1, min(n_panels, len(masks))).round().astype(int).tolist()))
    fig = new_figure(3.0 * len(picks), 3.2)
    for k, t in enumerate(picks):
        ax = fig.add_subplot(1, len(picks), k + 1)
        rgb = np.repeat(display(images[t])[..., None], 3, axis=-1) if display(images[t]).ndim == 2 else \
            display(images[t])
        rgb = np.array(rgb, np.float64)
        edges = find_boundaries(masks[t], mode="inner")
        for label in np.unique(masks[t][edges]):
            rgb[edges & (masks[t] == label)] = track_colour(int(label))
        ax.imshow(np.clip(rgb, 0, 1))
        for label, (cy, cx) in centres[t].items():
            path = [centres[s][label] for s in range(max(0, t - tail), t + 1) if label in centres[s]]
            if len(path) > 1:
                ax.plot([p[1] for p in path], [p[0] for p in path], color=track_colour(label), linewidth=1)
            ax.text(cx, cy, str(label), color="white", fontsize=6, ha="center", va="center")
        ax.set_title(f"frame {t}", fontsize=9)
        ax.axis("off")
    return to_png(fig)

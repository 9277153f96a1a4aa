"""Tracking figures for the report: a lineage tree and test frames with track outlines, ids and tails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from builder.tracking.colours import track_colour, track_colours
from builder.tracking.tree import tree_rows

__all__ = ["lineage_tree", "track_colour", "track_colours", "track_overlays"]


def lineage_tree(tracks: Sequence[Mapping[str, Any]], *, max_tracks: int = 200) -> bytes | None:
    """PNG of the lineage: one horizontal line per track over its frames, divisions drawn as forks."""
    from builder.report.figures import new_figure, to_png

    tracks = list(tracks)[:max_tracks]
    if not tracks:
        return None
    y = tree_rows(tracks)
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


def panel_frames(n_frames: int, n_panels: int = 4) -> list[int]:
    """Indices of ``n_panels`` evenly spaced frames of ``n_frames`` (first and last included), each once."""
    return sorted(set(np.linspace(0, n_frames - 1, min(n_panels, n_frames)).round().astype(int).tolist()))


def panel_title(index: int, first_frame: int = 0) -> str:
    """A panel's title: its frame counted from the start of the sequence (as the lineage counts them)."""
    return f"frame {first_frame + index}"


def track_overlays(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], *, n_panels: int = 4,
                   tail: int = 5, first_frame: int = 0) -> bytes | None:
    """PNG of evenly spaced frames: each cell outlined in its track's colour with its id and its recent path.

    ``first_frame``: the sequence's number of the first of ``images`` (test frames are the last of a sequence).
    """
    from skimage.segmentation import find_boundaries

    from builder.report.figures import display, new_figure, to_png
    from builder.tracking.detections import frame_objects

    if not len(masks):
        return None
    masks = [np.asarray(m) for m in masks]
    centres = [dict(zip(o.labels.tolist(), o.centroids, strict=True)) for o in (frame_objects(m) for m in masks)]
    picks = panel_frames(len(masks), n_panels)
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
        ax.set_title(panel_title(t, first_frame), fontsize=9)
        ax.axis("off")
    return to_png(fig)


def kymograph(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], parents: Mapping[int, int] | None = None,
              *, max_tracks: int = 300) -> bytes | None:
    """PNG of a kymograph and the track lengths of a tracked time-lapse.

    Left: each row is one frame (time runs downwards), the mean of each image column, so a cell is a streak
    whose sideways drift is its x motion; each track's centre is drawn over it in the track's colour, and a
    daughter's line starts at its mother's. Right: how many frames each track lasts.
    """
    from builder.report.figures import display, new_figure, to_png
    from builder.tracking.detections import frame_objects

    masks = [np.asarray(m) for m in masks]
    if not masks or not any(m.any() for m in masks):
        return None
    parents = {int(k): int(v) for k, v in (parents or {}).items() if v}
    planes = [display(im) for im in images]
    strip = np.stack([(p if p.ndim == 2 else p.mean(axis=-1)).mean(axis=0) for p in planes])
    paths: dict[int, list[tuple[int, float]]] = {}
    for t, m in enumerate(masks):
        objects = frame_objects(m)
        for label, (_cy, cx) in zip(objects.labels.tolist(), objects.centroids, strict=True):
            paths.setdefault(int(label), []).append((t, float(cx)))
    fig = new_figure(9.0, min(8.0, 2.5 + 0.06 * len(masks)))
    ax = fig.add_subplot(1, 2, 1)
    low, high = np.percentile(strip, (1, 99.5))
    ax.imshow(strip, cmap="gray", aspect="auto", interpolation="nearest", vmin=low, vmax=high + 2 * (high - low),
              extent=(-0.5, strip.shape[1] - 0.5, len(masks) - 0.5, -0.5))
    shown = sorted(paths, key=lambda k: -len(paths[k]))[:max_tracks]
    for label in shown:
        ts, xs = zip(*paths[label], strict=True)
        ax.plot(xs, ts, color=track_colour(label), linewidth=1.5)
    for label, mother in parents.items():
        if label in paths and mother in paths and mother in shown:
            end, start = paths[mother][-1], paths[label][0]
            ax.plot([end[1], start[1]], [end[0], start[0]], color=track_colour(label), linewidth=1, linestyle=":")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("frame")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Kymograph: cells' sideways motion over time", fontsize=9)
    lengths = np.array([len(p) for p in paths.values()])
    ax2 = fig.add_subplot(1, 2, 2)
    bins = np.arange(0.5, len(masks) + 1.5, max(1, len(masks) // 20))
    ax2.hist(lengths, bins=bins, color="0.35")
    full = int((lengths == len(masks)).sum())
    ax2.set_xlabel("frames the track lasts")
    ax2.set_ylabel("tracks")
    ax2.xaxis.get_major_locator().set_params(integer=True)
    ax2.set_title(f"{len(lengths)} tracks, {full} followed through all {len(masks)} frames", fontsize=9)
    return to_png(fig)

"""From a :class:`~builder.tracking.linker.TrackGraph` to CTC tracks: one label per track, parents, relabelled masks.

A track is a chain of objects in consecutive frames. A new track (label) starts at every object without a
predecessor, after a division (both daughters get new labels, parent = the mother's track) and after a gap-closing
link (new label, parent = the track before the gap), so every label is present in every frame from its first to its
last frame, as the Cell Tracking Challenge format requires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from builder.tracking.linker import Node, TrackGraph


@dataclass(frozen=True, order=True)
class TrackRow:
    """One line of ``res_track.txt``: label present from ``begin`` to ``end`` (frames, inclusive); parent 0=none."""

    label: int
    begin: int
    end: int
    parent: int = 0


@dataclass
class Lineage:
    """Tracks of a sequence and, per frame, the map from each object's label to its track label."""

    tracks: list[TrackRow]
    maps: list[dict[int, int]]

    def parents(self) -> dict[int, int]:
        return {t.label: t.parent for t in self.tracks}

    def relabel(self, labels: np.ndarray) -> np.ndarray:
        """(T, Y, X) uint16 masks with track labels instead of per-frame labels."""
        labels = np.asarray(labels)
        out = np.zeros(labels.shape, np.uint16)
        if self.tracks and max(t.label for t in self.tracks) > np.iinfo(np.uint16).max:
            raise ValueError(f"More than 65535 tracks ({len(self.tracks)}) do not fit the CTC uint16 masks.")
        for t, mapping in enumerate(self.maps):
            if not mapping:
                continue
            lut = np.zeros(int(labels[t].max()) + 1, np.uint16)
            for old, new in mapping.items():
                lut[old] = new
            out[t] = lut[labels[t]]
        return out


def lineage_from_graph(graph: TrackGraph) -> Lineage:
    """Number the tracks of ``graph`` in order of their first frame (labels 1, 2, ...)."""
    succ, pred = graph.successors(), graph.predecessors()
    nodes = sorted(graph.nodes())
    track_of: dict[Node, int] = {}
    rows: list[TrackRow] = []
    for node in nodes:
        if node in track_of:
            continue
        before = pred.get(node)
        continues = (before is not None and before[0] == node[0] - 1 and len(succ.get(before, [])) == 1)
        if continues and before is not None:  # predecessors come first (sorted by frame): numbered already
            track_of[node] = track_of[before]
            continue
        label = len(rows) + 1
        parent = track_of[before] if before is not None else 0
        track_of[node] = label
        rows.append(TrackRow(label, node[0], node[0], parent))
    ends: dict[int, int] = {}
    for node, label in track_of.items():
        ends[label] = max(ends.get(label, node[0]), node[0])
    rows = [TrackRow(r.label, r.begin, ends[r.label], r.parent) for r in rows]
    maps: list[dict[int, int]] = [{} for _ in graph.objects]
    for (t, lab), label in track_of.items():
        maps[t][lab] = label
    return Lineage(rows, maps)


def lineage_from_masks(masks: np.ndarray, tracks: list[TrackRow]) -> Lineage:
    """The lineage of masks already labelled by track (e.g. ground truth ``man_track``), identity maps."""
    maps = [{int(v): int(v) for v in np.unique(frame) if v} for frame in np.asarray(masks)]
    return Lineage(list(tracks), maps)

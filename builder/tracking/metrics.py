"""Cell Tracking Challenge measures: DET, SEG, TRA, LNK (AOGM), CT (complete tracks) and BC(i) (divisions).

Definitions (Matula et al. 2015, PLoS ONE 10:e0144959; Ulman et al. 2017, Nat. Methods 14:1141): objects are matched
per frame (:mod:`builder.tracking.matching`). The acyclic oriented graph of a result is compared with the
reference graph by counting the operations that turn one into the other: NS (split a computed object that covers k
reference objects: k-1), FN (add a missed object), FP (delete a spurious one), ED (delete a wrong edge), EA (add a
missing edge) and EC (change an edge between a track link and a parent link). Edges are track links (same label in
consecutive frames) and parent links (parent's last object -> child's first object). Only edges between computed
objects that match exactly one reference object are compared.

``DET = 1 - min(5 NS + 10 FN + FP, 10 |V_R|) / (10 |V_R|)``; ``TRA`` adds ``ED + 1.5 EA + EC`` to the cost and
``1.5 |E_R|`` to the normaliser; ``LNK`` uses the edge operations only. ``SEG``: mean IoU of every object of the
reference SEG frames with the object that matches it (0 when none). ``CT = 2 T_rc / (T_r + T_c)`` where T_rc counts
reference tracks followed by one computed track with the same first and last frame. ``BC(i)``: F1 of divisions
(tracks with two or more children) whose mother and daughters are matched within ``i`` frames.
The values equal those of the challenge's Python evaluation (py-ctcmetrics), checked in the tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from builder.tracking.lineage import TrackRow
from builder.tracking.matching import FrameMatch, match_frame

Vertex = tuple[int, int]  # (frame, label)


@dataclass(frozen=True)
class GraphErrors:
    """AOGM operation counts and the size of the reference graph."""

    ns: int
    fn: int
    fp: int
    ed: int
    ea: int
    ec: int
    n_vertices: int
    n_edges: int

    def det(self) -> float:
        cost, zero = 5 * self.ns + 10 * self.fn + self.fp, 10 * self.n_vertices
        return 1.0 - min(cost, zero) / zero if zero else 0.0

    def aogm(self) -> float:
        return 5 * self.ns + 10 * self.fn + self.fp + self.ed + 1.5 * self.ea + self.ec

    def tra(self) -> float:
        zero = 10 * self.n_vertices + 1.5 * self.n_edges
        return 1.0 - min(self.aogm(), zero) / zero if zero else 0.0

    def lnk(self) -> float:
        cost, zero = self.ed + 1.5 * self.ea + self.ec, 1.5 * self.n_edges
        return 1.0 - min(cost, zero) / zero if zero else 0.0


def graph_edges(labels_per_frame: Sequence[Sequence[int]], tracks: Sequence[TrackRow]) -> dict[tuple[Vertex, Vertex],
                                                                                                 int]:
    """Edges of a CTC graph -> kind (0 track link, 1 parent link)."""
    edges: dict[tuple[Vertex, Vertex], int] = {}
    for t in range(len(labels_per_frame) - 1):
        nxt = set(labels_per_frame[t + 1])
        for lab in labels_per_frame[t]:
            if lab in nxt:
                edges[((t, lab), (t + 1, lab))] = 0
    by_label = {r.label: r for r in tracks}
    for r in tracks:
        if r.parent and r.parent in by_label:
            edges[((by_label[r.parent].end, r.parent), (r.begin, r.label))] = 1
    return edges


def graph_errors(matches: Sequence[FrameMatch], ref_tracks: Sequence[TrackRow], comp_tracks: Sequence[TrackRow]
                 ) -> GraphErrors:
    """Count the AOGM operations from per-frame matches of reference TRA markers to computed masks."""
    ns = fn = fp = 0
    to_ref: dict[Vertex, Vertex] = {}  # computed vertex matching exactly one reference vertex -> that vertex
    for t, m in enumerate(matches):
        fn += len(m.ref) - len(m.pairs)
        counts = m.times_matched()
        fp += sum(1 for c in m.comp if c not in counts)
        ns += sum(k - 1 for k in counts.values() if k > 1)
        for r, (c, _) in m.pairs.items():
            if counts[c] == 1:
                to_ref[(t, c)] = (t, r)
    ref_edges = graph_edges([m.ref for m in matches], ref_tracks)
    comp_edges = graph_edges([m.comp for m in matches], comp_tracks)
    mapped = {(to_ref[a], to_ref[b]): kind for (a, b), kind in comp_edges.items() if a in to_ref and b in to_ref}
    ed = sum(1 for e in mapped if e not in ref_edges)
    ea = sum(1 for e in ref_edges if e not in mapped)
    ec = sum(1 for e, kind in mapped.items() if e in ref_edges and ref_edges[e] != kind)
    n_vertices = sum(len(m.ref) for m in matches)
    return GraphErrors(ns, fn, fp, ed, ea, ec, n_vertices, len(ref_edges))


def seg_measure(matches: Sequence[FrameMatch]) -> float:
    """Mean IoU over every reference object of the SEG frames (unmatched objects count 0)."""
    n = sum(len(m.ref) for m in matches)
    total = sum(iou for m in matches for _, iou in m.pairs.values())
    return float(total / max(n, 1))


def complete_tracks(matches: Sequence[FrameMatch], ref_tracks: Sequence[TrackRow], comp_tracks: Sequence[TrackRow]
                    ) -> float:
    """CT: share of reference tracks reconstructed whole by one computed track (F-score form)."""
    followers: dict[int, set[int]] = {}
    for m in matches:
        counts = m.times_matched()
        for r in m.ref:
            c = m.pairs.get(r, (0, 0.0))[0]
            followers.setdefault(r, set()).add(c if c and counts[c] == 1 else 0)
    comp = {r.label: r for r in comp_tracks}
    ref = {r.label: r for r in ref_tracks}
    correct = 0
    for label, seen in followers.items():
        if len(seen) != 1 or 0 in seen or label not in ref:
            continue
        found = comp.get(next(iter(seen)))
        if found is not None and (found.begin, found.end) == (ref[label].begin, ref[label].end):
            correct += 1
    total = len(ref_tracks) + len(comp_tracks)
    return float(2 * correct / total) if total else 0.0


def _divisions(tracks: Sequence[TrackRow]) -> dict[int, list[TrackRow]]:
    children: dict[int, list[TrackRow]] = {}
    for r in tracks:
        if r.parent:
            children.setdefault(r.parent, []).append(r)
    return {p: c for p, c in children.items() if len(c) > 1}


def _same_object(matches: Sequence[FrameMatch], t: int, ref_label: int, comp_label: int) -> bool:
    """True when in frame ``t`` the computed object matches the reference one and no other."""
    if t < 0 or t >= len(matches):
        return False
    m = matches[t]
    return m.pairs.get(ref_label, (0,))[0] == comp_label and m.times_matched().get(comp_label, 0) == 1


def division_counts(matches: Sequence[FrameMatch], ref_tracks: Sequence[TrackRow], comp_tracks: Sequence[TrackRow],
                    tolerance: int = 0) -> tuple[int, int, int]:
    """(true, false, missed) divisions; a computed division is true when its mother and all daughters match a
    reference division's within ``tolerance`` frames."""
    ref_div, comp_div = _divisions(ref_tracks), _divisions(comp_tracks)
    if not ref_div:
        return 0, len(comp_div), 0
    if not comp_div:
        return 0, 0, len(ref_div)
    ref_rows = {r.label: r for r in ref_tracks}
    comp_rows = {r.label: r for r in comp_tracks}
    found = 0
    for cp, c_children in comp_div.items():
        c_end = comp_rows[cp].end
        for rp, r_children in ref_div.items():
            r_end = ref_rows[rp].end
            if abs(r_end - c_end) > tolerance or len(r_children) != len(c_children):
                continue
            if not _same_object(matches, min(r_end, c_end), rp, cp):
                continue
            if _children_match(matches, r_children, c_children, tolerance):
                found += 1
    return found, len(comp_div) - found, len(ref_div) - found


def _children_match(matches: Sequence[FrameMatch], r_children: list[TrackRow], c_children: list[TrackRow],
                    tolerance: int) -> bool:
    used: set[int] = set()
    for r in r_children:
        for c in c_children:
            if abs(r.begin - c.begin) > tolerance:
                continue
            t = max(r.begin, c.begin)
            if matches[t].times_matched().get(c.label, 0) != 1:
                continue
            if matches[t].pairs.get(r.label, (0,))[0] == c.label:
                used.add(c.label)
                break
    return len(used) == len(r_children)


def f1(tp: int, fp: int, fn: int) -> dict[str, float | None]:
    """Precision, recall and F1 (``None`` when the reference has no divisions)."""
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    score = 2 * precision * recall / max(precision + recall, 1e-4)
    return {"precision": precision, "recall": recall, "f1": score if tp + fn else None}


def ctc_scores(ref_tra: np.ndarray, ref_tracks: Sequence[TrackRow], comp_masks: np.ndarray,
               comp_tracks: Sequence[TrackRow], ref_seg: Mapping[int, np.ndarray] | None = None,
               tolerances: Sequence[int] = (0, 1, 2, 3)) -> dict[str, float | int | None]:
    """Every measure for one sequence: DET, TRA, LNK, SEG, CT, BC(i), AOGM counts, division precision/recall.

    Parameters
    ----------
    ref_tra : (T, Y, X) int ndarray
        Reference tracking markers (``man_trackTTT.tif``).
    ref_tracks, comp_tracks : list of TrackRow
        ``man_track.txt`` and ``res_track.txt``.
    comp_masks : (T, Y, X) int ndarray
        Computed masks (``maskTTT.tif``), labelled by track.
    ref_seg : dict, optional
        Frame -> reference segmentation (``man_segTTT.tif``) for SEG.
    """
    ref_tra, comp_masks = np.asarray(ref_tra), np.asarray(comp_masks)
    if len(ref_tra) != len(comp_masks):
        raise ValueError(f"The result has {len(comp_masks)} frames, the reference {len(ref_tra)}.")
    matches = [match_frame(ref_tra[t], comp_masks[t]) for t in range(len(ref_tra))]
    errors = graph_errors(matches, ref_tracks, comp_tracks)
    out: dict[str, float | int | None] = {
        "DET": errors.det(), "TRA": errors.tra(), "LNK": errors.lnk(), "AOGM": errors.aogm(),
        "NS": errors.ns, "FN": errors.fn, "FP": errors.fp, "ED": errors.ed, "EA": errors.ea, "EC": errors.ec,
        "CT": complete_tracks(matches, ref_tracks, comp_tracks)}
    if ref_seg:
        out["SEG"] = seg_measure([match_frame(mask, comp_masks[t]) for t, mask in sorted(ref_seg.items())])
    for i in tolerances:
        tp, fp, fn = division_counts(matches, ref_tracks, comp_tracks, i)
        scores = f1(tp, fp, fn)
        out[f"BC({i})"] = scores["f1"]
        out[f"division_tp({i})"], out[f"division_fp({i})"], out[f"division_fn({i})"] = tp, fp, fn
        out[f"division_precision({i})"], out[f"division_recall({i})"] = scores["precision"], scores["recall"]
    return out

"""Measure tracking on a CTC sequence's held-out frames: ``python -m builder.tracking.measure ROOT``.

Frames ``--test-from`` to the end are tracked (detections: the reference segmentation, ``--detections gt``, a
classical Otsu + watershed segmentation of the log-scaled raw frames, ``classical``, or a trained model,
``--model RUN_OR_BUNDLE``, through the prediction path) and scored with :func:`builder.tracking.metrics.ctc_scores`
against the reference cropped to the same frames (computed detections pass through
:func:`builder.tracking.split_merges.split_merged` first, as in the tracking task); ``seg_*`` keys say where SEG is lost
(:mod:`builder.tracking.seg_errors`).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from builder.errors import DataError
from builder.tracking.lineage import TrackRow, lineage_from_graph
from builder.tracking.linker import LinkSettings, track
from builder.tracking.metrics import ctc_scores
from builder.tracking.reference import crop_tracks


def held_out(seq: Any, start: int) -> tuple[np.ndarray, np.ndarray, list[TrackRow], dict[int, np.ndarray]]:
    """(frames, TRA markers, tracks, SEG by frame) of frames ``start``... of a read CTC sequence, from frame 0."""
    rows = crop_tracks([TrackRow(t.label, t.begin, t.end, t.parent) for t in seq.tracks], start, len(seq.frames))
    seg = {n - start: m for n, m in seq.seg.items() if n >= start}
    return seq.frames[start:], seq.tra[start:], rows, seg


def model_detections(model: str, frames: np.ndarray) -> np.ndarray:
    """(T, Y, X) instance labels of ``frames`` by a trained model (run folder or bundle), frame by frame."""
    from builder.workflow.inference import predict_image
    from builder.workflow.model_source import open_model_source

    source = open_model_source(model)
    return np.stack([predict_image(source.model, frame, source.recipe, norm_stats=source.normalization,
                                   postprocess=source.postprocess)["labels"] for frame in frames])


def measure(root: str, sequence: str = "01", start: int = 45, detections: str = "classical",
            settings: LinkSettings | None = None, learned: bool = False, model: str | None = None
            ) -> dict[str, Any]:
    """Track and score the held-out frames; returns the scores plus ``link_seconds`` (linking and relabelling)."""
    from builder.data.ctc import read_ctc_sequence
    from builder.tasks.classical import classical_instances

    seq = read_ctc_sequence(root, sequence)
    if seq.tra is None:
        raise DataError(f"{root}/{sequence}_GT/TRA", "no tracking ground truth (man_trackTTT.tif) to score against.",
                        "Measure on a Cell Tracking Challenge training sequence with its _GT/TRA folder.")
    frames, tra, rows, seg = held_out(seq, start)
    scorer = None
    if learned:  # trained on the 30 frames before the held-out ones
        from builder.tracking.learned import scorer_from_tracks

        first = max(0, start - 30)
        train_rows = crop_tracks([TrackRow(t.label, t.begin, t.end, t.parent) for t in seq.tracks], first, start)
        scorer = scorer_from_tracks(seq.tra[first:start], seq.frames[first:start, ..., 0], train_rows)
    if model is not None:
        labels = model_detections(model, frames)
    elif detections == "gt":
        labels = np.stack([seg[t] for t in range(len(frames))])
    else:
        labels = np.stack([classical_instances(np.log1p(f[..., 0] - float(f.min())), min_distance=8, min_size=30)
                           for f in frames])
    if detections != "gt" or model is not None:
        from builder.tracking.split_merges import split_merged

        labels = split_merged(labels)
    began = time.perf_counter()
    graph = track(labels, frames[..., 0], settings, scorer)
    lineage = lineage_from_graph(graph)
    masks = lineage.relabel(labels)
    seconds = time.perf_counter() - began
    scores = ctc_scores(tra, rows, masks, lineage.tracks, seg)
    from builder.tracking.seg_errors import seg_breakdown

    lost = {f"seg_{k}": v for k, v in seg_breakdown(seg, masks).items() if k != "SEG"}
    return {**scores, **lost, "link_seconds": seconds, "radius": graph.radius, "frames": len(frames)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("--sequence", default="01")
    parser.add_argument("--test-from", type=int, default=45)
    parser.add_argument("--detections", choices=("gt", "classical"), default="classical")
    parser.add_argument("--baseline", action="store_true", help="frame-to-frame Hungarian only (no gaps, divisions)")
    parser.add_argument("--learned", action="store_true", help="score links with the learned scorer")
    parser.add_argument("--model", help="detections by this trained model (run folder or bundle .zip)")
    args = parser.parse_args(argv)
    settings = LinkSettings(max_gap=0, divisions=False) if args.baseline else None
    out = measure(args.root, args.sequence, args.test_from, args.detections, settings, args.learned, args.model)
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}, indent=1))


if __name__ == "__main__":
    main()

"""Where the SEG score of a trained SIM+ tracking run is lost (run by hand, on the validation frames only).

Run: PYTHONPATH=. python tests/benchmarks/simplus_seg_errors.py RUN_DIR --cache CACHE [--split validation]
RUN_DIR: a run of tests/benchmarks/simplus_tracking.yaml (only read); the network outputs are read from (or written
to) ``CACHE.<split>.npz`` as in ``simplus_division_tuning.py``. Post-processing uses the run's postprocess.json.

Prints, per true cell of the SEG frames: the IoU distribution (SEG is its mean, misses count 0), what the missed
cells were (merged into a neighbour's object, or not found), the area ratio predicted/true of the matched cells,
the centroid offset predicted minus true, the SEG each single correction would reach (every object shifted by the
best whole-frame sub-pixel shift; every object grown/shrunk to the true area; both), the IoU by cell size and by
distance in frames to a division (mother's last frame or daughters' first), and the frames that cost most.

Findings (run /tmp/s4/simrun of simplus_tracking.yaml, 12 epochs; 255 cells of validation frames 39-44, SEG 0.869):
- Not from missed, merged or split cells: 1 cell missed (6 px), no object over two cells; SEG lost 0.004.
- Not from the extent: predicted/true area median 1.006 (5-95 %: 0.88-1.34); the threshold already sits at the SEG
  optimum (0.4: 0.864, 0.5: 0.869, 0.6: 0.855).
- The offset: found objects sit +0.45 px (y), +0.91 px (x) from the true cells on average (sd 1.0 / 1.6 px);
  shifting the output back gives 0.887 (+0.018) on these frames. Flip/turn augmentation stops the network learning
  it. -> builder.tasks.registration (tuned on validation, applied by evaluate/predict).
- Shape: after moving each object by its own offset the mean IoU of matched cells is 0.901 (0.872 before); the
  rest is outline shape: SIM+ masks are ragged where our outlines are smooth, and a few cells' masks are much
  smaller than the bright nucleus (IoU 0.52-0.64, area ratio 1.3-1.7, e.g. cell 4 in frames 40-44, cell 59).
- Cells near divisions are not worse (10 cells within 2 frames: mean IoU 0.876); all frames alike (0.84-0.88).
- Longer training raises SEG on the same frames: 12 more epochs from this run (lr 0.001) 0.892 unshifted.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi


def _objects_iou(truth: np.ndarray, pred: np.ndarray) -> list[dict[str, Any]]:
    """Per true cell: IoU with the predicted object covering more than half of it, area ratio, centroid offset."""
    rows = []
    for label in np.unique(truth[truth > 0]):
        cell = truth == label
        area = int(cell.sum())
        under = pred[cell]
        counts = np.bincount(under[under > 0]) if (under > 0).any() else np.zeros(1, int)
        best = int(np.argmax(counts)) if counts.max() > 0 else 0
        row: dict[str, Any] = {"label": int(label), "area": area, "iou": 0.0, "matched": False,
                               "pred_label": best}
        if best and counts[best] > 0.5 * area:
            obj = pred == best
            inter = float(counts[best])
            row.update(matched=True, iou=inter / float(area + obj.sum() - inter), ratio=float(obj.sum()) / area,
                       offset=(np.asarray(ndi.center_of_mass(obj)) - np.asarray(ndi.center_of_mass(cell))).tolist(),
                       n_truth_under=int(len(np.unique(truth[obj & (truth > 0)]))))
        rows.append(row)
    return rows


def _division_distance(tracks: list[Any], frame: int, label: int) -> int | None:
    """Frames from ``frame`` to the nearest division event of cell ``label`` (its birth from a mother, or its
    own end when it has daughters); None when it has neither."""
    by_label = {r.label: r for r in tracks}
    row = by_label.get(label)
    if row is None:
        return None
    events = []
    if row.parent:
        events.append(row.begin)
    if any(r.parent == label for r in tracks):
        events.append(row.end)
    return min(abs(frame - e) for e in events) if events else None


def main() -> None:
    from builder.data.timelapse import sequence_truth
    from builder.tasks import get_task
    from builder.tasks.tracking import segmentation_score
    from builder.workflow.evaluate_job import _samples_from_split_json
    from builder.workflow.inference import interpret_output
    from builder.workflow.model_source import open_model_source
    from tests.benchmarks.simplus_division_tuning import _outputs

    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--split", default="validation")
    args = parser.parse_args()
    source = open_model_source(args.run)
    recipe = source.recipe
    get_task(recipe.task)
    samples = _samples_from_split_json(args.run, args.split)
    loaded, outs = _outputs(source, samples, args.cache, args.split)
    params = json.loads((args.run / "postprocess.json").read_text())
    params = {k: params[k] for k in ("threshold", "seed_threshold", "min_size")}
    truths = [np.maximum(t[..., 0], 0).astype(np.int32) for t in loaded.targets]
    preds = [interpret_output(o, recipe, params)["prediction"] for o in outs]
    tracks = sequence_truth(samples[0]).tracks
    from builder.data.timelapse import frame_number

    rows = []
    for sample, truth, pred in zip(samples, truths, preds, strict=True):
        for r in _objects_iou(truth, pred):
            r["frame"] = frame_number(sample)
            r["to_division"] = _division_distance(tracks, r["frame"], r["label"])
            rows.append(r)
    iou = np.array([r["iou"] for r in rows])
    print(f"{len(rows)} true cells in {len(samples)} {args.split} frames; SEG {iou.mean():.4f} "
          f"(as scored: {segmentation_score(truths, preds):.4f})")
    print("IoU quantiles 5/25/50/75/95 %:", np.round(np.percentile(iou, [5, 25, 50, 75, 95]), 3).tolist())
    misses = [r for r in rows if not r["matched"]]
    merged = [r for r in misses if r["pred_label"]]
    print(f"missed cells: {len(misses)} (SEG lost {len(misses) / len(rows):.4f}); covered by an object that is "
          f"mostly another cell: {len(merged)}; areas {[r['area'] for r in misses]}")
    matched = [r for r in rows if r["matched"]]
    ratio = np.array([r["ratio"] for r in matched])
    off = np.array([r["offset"] for r in matched])
    print(f"matched {len(matched)}: area ratio pred/true median {np.median(ratio):.3f} mean {ratio.mean():.3f} "
          f"(5-95 %: {np.percentile(ratio, 5):.3f}-{np.percentile(ratio, 95):.3f}); objects covering 2+ true "
          f"cells: {sum(r['n_truth_under'] > 1 for r in matched)}")
    print(f"centroid offset pred-true (y, x): mean {off.mean(axis=0).round(3).tolist()} median "
          f"{np.median(off, axis=0).round(3).tolist()} sd {off.std(axis=0).round(3).tolist()}")
    lost = 1 - np.array([r["iou"] for r in matched])
    print(f"SEG lost by matched cells' imperfect overlap: {lost.sum() / len(rows):.4f}")
    # What single corrections would give: shift the probabilities by the mean offset (sub-pixel), or move the
    # foreground threshold so that the median area ratio is 1.
    dy, dx = -off.mean(axis=0)
    shifted = [interpret_output(ndi.shift(o, (dy, dx, 0), order=1, mode="nearest"), recipe, params)["prediction"]
               for o in outs]
    print(f"SEG with the outputs shifted by ({dy:+.2f}, {dx:+.2f}) px (oracle, mean offset of these frames): "
          f"{segmentation_score(truths, shifted):.4f}")
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        p = [interpret_output(o, recipe, {**params, "threshold": t})["prediction"] for o in outs]
        ps = [interpret_output(ndi.shift(o, (dy, dx, 0), order=1, mode="nearest"), recipe,
                               {**params, "threshold": t})["prediction"] for o in outs]
        print(f"  threshold {t}: SEG {segmentation_score(truths, p):.4f}, shifted {segmentation_score(truths, ps):.4f}")
    # Oracle per-object: the true cell's IoU with its predicted object moved by that object's own offset
    # (whole pixels) -- what remains is shape.
    shape_iou = []
    for truth, pred, sample in zip(truths, preds, samples, strict=True):
        for r in [r for r in matched if r["frame"] == frame_number(sample)]:
            obj = pred == r["pred_label"]
            cell = truth == r["label"]
            moved = ndi.shift(obj.astype(float), -np.asarray(r["offset"]), order=1) > 0.5
            inter = (moved & cell).sum()
            shape_iou.append(inter / float((moved | cell).sum()))
    print(f"mean IoU of matched cells after moving each object by its own offset: {np.mean(shape_iou):.4f} "
          f"(before {np.mean([r['iou'] for r in matched]):.4f})")
    sizes = np.array([r["area"] for r in rows])
    for lo, hi in ((0, 150), (150, 300), (300, 600), (600, 10**9)):
        sel = (sizes >= lo) & (sizes < hi)
        if sel.any():
            print(f"  area {lo}-{hi}: {sel.sum()} cells, mean IoU {iou[sel].mean():.3f}")
    for name, sel in (("within 2 frames of a division", [r["to_division"] is not None and r["to_division"] <= 2
                                                          for r in rows]),
                      ("farther from divisions", [r["to_division"] is None or r["to_division"] > 2 for r in rows])):
        sel = np.asarray(sel)
        if sel.any():
            print(f"  {name}: {sel.sum()} cells, mean IoU {iou[sel].mean():.3f}, "
                  f"SEG lost {(1 - iou[sel]).sum() / len(rows):.4f}")
    frames = sorted({r["frame"] for r in rows})
    per_frame = {f: [r["iou"] for r in rows if r["frame"] == f] for f in frames}
    print("per frame (frame: cells, SEG):", {f: (len(v), round(float(np.mean(v)), 3)) for f, v in per_frame.items()})
    worst = sorted(rows, key=lambda r: r["iou"])[:8]
    print("worst cells:", [(r["frame"], r["label"], r["area"], round(r["iou"], 3), round(r.get("ratio", 0), 2),
                            r["to_division"]) for r in worst])


if __name__ == "__main__":
    main()

"""Where the held-out SEG of a trained SIM+ tracking run is lost, by kind of cell (run by hand).

Run: PYTHONPATH=. python tests/benchmarks/simplus_seg_kinds.py RUN_DIR --cache CACHE [--split test]
RUN_DIR, CACHE: as in ``simplus_tra_errors.py`` (the tracked masks that ``evaluate`` scores).

SEG is the mean over the true cells of the SEG frames of their Jaccard index with the computed object covering more
than half of them (0 when there is none). Splits the SEG lost (1 - SEG) into missed cells (Jaccard 0) and matched
cells' imperfect overlap, overall and by kind: *border* (the true cell touches the image edge), *dim* (its mean raw
intensity is in the lowest decile of all true cells of the split), *small* (area in the lowest decile), *mitotic*
(within 1 frame of a division: the mother's last frame or a daughter's first), *other* (none of these). A cell can
be of several kinds. Also prints, per kind, the mean network interior probability under the missed cells.

Findings, held-out frames 45-64 (892 true cells; "lost" = share of the 1 - SEG budget):
run /tmp/s6div/long2 (24 + 12 epochs of 10 steps), SEG 0.8780:
  kind     cells missed lost_miss lost_overlap matched_J
  all        892     16    0.0179       0.1041    0.8940
  border     150     12    0.0135       0.0142    0.9080
  dim         90     16    0.0179       0.0182    0.7802
  small       90     15    0.0168       0.0279    0.6686
  mitotic     52      0    0.0000       0.0104    0.8210
  other      612      0    0.0000       0.0545    0.9206
- The lever is boundary accuracy: imperfect overlap of found cells costs 0.104, missed cells 0.018. All 16 misses
  are dim, 12 of them slivers (12-142 px) at the image edge, where the network's interior probability is 0.01-0.2.
- Training patches reach the cells at the image edge half as often as the others (mean per-patch coverage of
  their pixels 0.028 vs 0.053 on frames 0-38, 128-px patches, foreground_fraction 0.7), and cells under 300 px
  2.4 times less often (0.021 vs 0.050); ``preprocess.patch.balance: objects`` lifts the small ones to 0.040 (the
  edge ones only to 0.031: that gap is the geometry of patches clipped to the image).
- Test-time augmentation (8 views; thresholds and shift re-tuned on validation) on long2: validation SEG 0.9091
  -> 0.9106, held-out SEG 0.8779 -> 0.8781: not a lever.
run s7-r1 (steps_per_epoch 30 and a cosine schedule, 12 epochs), SEG 0.8853: 10 misses (all border slivers),
matched J 0.8954 (lost 0.1035). run s7-r2 (the same + patch.balance: objects, simplus_tracking.yaml), SEG 0.8851:
13 misses (9 border), matched J 0.8982 (lost 0.1003; small cells 0.687 vs 0.660, mitotic 0.834 vs 0.817).
"""

from __future__ import annotations

from typing import Any

import numpy as np

KINDS = ("border", "dim", "small", "mitotic", "other")


def cell_rows(truth: np.ndarray, comp: np.ndarray, image: np.ndarray, interior: np.ndarray | None
              ) -> list[dict[str, Any]]:
    """One row per true cell of a frame: area, mean intensity, border flag, Jaccard (CTC SEG rule)."""
    rows = []
    for label in np.unique(truth[truth > 0]):
        cell = truth == label
        area = int(cell.sum())
        under = comp[cell]
        counts = np.bincount(under[under > 0]) if (under > 0).any() else np.zeros(1, int)
        best = int(np.argmax(counts))
        jac = 0.0
        if best and counts[best] > 0.5 * area:
            inter = float(counts[best])
            jac = inter / float(area + (comp == best).sum() - inter)
        ys, xs = np.nonzero(cell)
        border = bool(ys.min() == 0 or xs.min() == 0 or ys.max() == truth.shape[0] - 1
                      or xs.max() == truth.shape[1] - 1)
        rows.append({"label": int(label), "area": area, "intensity": float(image[cell].mean()), "border": border,
                     "jaccard": jac, "interior": None if interior is None else float(interior[cell].mean())})
    return rows


def summarise(rows: list[dict[str, Any]]) -> list[str]:
    """The table lines: per kind, cells, missed, SEG lost by misses and by overlap, matched mean Jaccard."""
    n = len(rows)
    lines = [f"{'kind':8s} {'cells':>5s} {'missed':>6s} {'lost_miss':>9s} {'lost_overlap':>12s} "
             f"{'matched_J':>9s} {'interior_missed':>15s}"]
    for kind in ("all", *KINDS):
        sel = [r for r in rows if kind == "all" or kind in r["kinds"]]
        if not sel:
            continue
        missed = [r for r in sel if r["jaccard"] == 0.0]
        matched = [r["jaccard"] for r in sel if r["jaccard"] > 0.0]
        inside = [r["interior"] for r in missed if r["interior"] is not None]
        lines.append(f"{kind:8s} {len(sel):5d} {len(missed):6d} {len(missed) / n:9.4f} "
                     f"{sum(1 - j for j in matched) / n:12.4f} {np.mean(matched) if matched else float('nan'):9.4f} "
                     f"{np.mean(inside) if inside else float('nan'):15.3f}")
    return lines


def main() -> None:
    from builder.data.readers import read_image
    from tests.benchmarks.simplus_tracked import parse_args, tracked_split

    args = parse_args()
    tracked = tracked_split(args.run, args.cache, args.split)
    from builder.tasks.tracking import _reference

    samples = [tracked.loaded.samples[i] for i in tracked.idx]
    rows_ref, seg, first = _reference(samples)
    stored = np.load(args.cache.with_suffix(f".{args.split}.npz"))
    events: dict[int, set[int]] = {}  # frame (from the split start) -> labels within one frame of a division
    for r in rows_ref:
        daughters = [d for d in rows_ref if d.parent == r.label]
        if len(daughters) > 1:
            for f in (r.end - 1, r.end):
                events.setdefault(f, set()).add(r.label)
            for d in daughters:
                for f in (d.begin, d.begin + 1):
                    events.setdefault(f, set()).add(d.label)
    rows = []
    for t, i in enumerate(tracked.idx):
        truth = seg.get(t)
        if truth is None:
            continue
        image = np.asarray(read_image(samples[t].image_path).array, np.float64)
        image = image[..., 0] if image.ndim == 3 else image
        out = stored[f"o{i}"]
        interior = out[..., 2] if out.ndim == 3 and out.shape[-1] == 3 else None
        for row in cell_rows(np.asarray(truth, np.int64), tracked.masks[t], image, interior):
            row["frame"] = first + t
            row["mitotic"] = row["label"] in events.get(t, set())  # track rows count frames from 0
            rows.append(row)
    dim_cut = np.percentile([r["intensity"] for r in rows], 10)
    small_cut = np.percentile([r["area"] for r in rows], 10)
    for r in rows:
        kinds = [k for k, on in (("border", r["border"]), ("dim", r["intensity"] <= dim_cut),
                                 ("small", r["area"] <= small_cut), ("mitotic", r["mitotic"])) if on]
        r["kinds"] = kinds or ["other"]
    jac = np.array([r["jaccard"] for r in rows])
    print(f"{args.run} {args.split}: {len(rows)} true cells in {len(seg)} SEG frames; SEG {jac.mean():.4f} "
          f"(as scored: {tracked.scores['SEG']:.4f}); TRA {tracked.scores['TRA']:.4f} DET {tracked.scores['DET']:.4f}")
    print(f"dim: mean intensity <= {dim_cut:.1f}; small: area <= {small_cut:.0f} px")
    print("\n".join(summarise(rows)))
    print("missed cells (frame, label, area, kinds, mean interior probability):")
    for r in rows:
        if r["jaccard"] == 0.0:
            print(f"  {r['frame']:3d} {r['label']:4d} {r['area']:5d} {','.join(r['kinds']):20s} "
                  f"{r['interior'] if r['interior'] is not None else float('nan'):.3f}")


if __name__ == "__main__":
    main()

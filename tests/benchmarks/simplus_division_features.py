"""Measurements of every division a trained SIM+ tracking run computes, true or false (run by hand).

Run: PYTHONPATH=. python tests/benchmarks/simplus_division_features.py RUN_DIR --cache CACHE [--split test]
RUN_DIR, CACHE: as in ``simplus_division_errors.py`` (post-processing: the run's postprocess.json).
Prints one line per computed division: whether it matches a true division (±2 frames), the mother's area in its
last two frames (``jump``: last / the one before), its mean intensity and solidity against the frame's median
object, the daughters' areas (share of the mother; ``cont``: the larger daughter against the mother's area one
frame before its end), how long each daughter lives and whether they touch at their first frame. These are the
numbers the linker's division checks (``builder.tracking.linker``) are chosen on (training and validation
frames only).
"""

from __future__ import annotations

import json

import numpy as np
from scipy import ndimage as ndi

TOL = 2


def _solidity(mask: np.ndarray) -> float:
    from skimage.measure import regionprops

    props = regionprops(mask.astype(np.uint8))
    return float(props[0].solidity) if props else 0.0


def main() -> None:
    from builder.tracking.metrics import _children_match, _divisions, _same_object
    from tests.benchmarks.simplus_tracked import parse_args, tracked_split

    args = parse_args()
    tracked = tracked_split(args.run, args.cache, args.split)
    loaded, idx = tracked.loaded, tracked.idx
    scores, lineage, masks, ref_rows = tracked.scores, tracked.lineage, tracked.masks, tracked.ref_rows
    first, truths, matches = tracked.first, tracked.truths, tracked.matches
    images = np.stack([np.asarray(loaded.images[i], np.float64).reshape(truths.shape[1:] + (-1,)).mean(-1)
                       for i in idx])
    comp = {r.label: r for r in lineage.tracks}
    ref = {r.label: r for r in ref_rows}
    ref_div = _divisions(ref_rows)
    print("div tp/fp/fn", [scores.get(f"division_{x}({TOL})") for x in ("tp", "fp", "fn")], "TRA",
          round(scores["TRA"], 4))
    for p, children in sorted(_divisions(lineage.tracks).items()):
        e = comp[p].end
        true = any(abs(ref[rp].end - e) <= TOL and _same_object(matches, min(ref[rp].end, e), rp, p)
                   and _children_match(matches, rc, children, TOL) for rp, rc in ref_div.items())
        labels, counts = np.unique(masks[e][masks[e] > 0], return_counts=True)
        med_area = float(np.median(counts))
        med_int = float(np.median([images[e][masks[e] == lab].mean() for lab in labels]))
        a_e = float((masks[e] == p).sum())
        a_b = float((masks[e - 1] == p).sum()) if comp[p].begin < e else float("nan")
        d = [float((masks[c.begin] == c.label).sum()) for c in children]
        grown = ndi.binary_dilation(masks[e + 1] == children[0].label, iterations=2)
        touch = bool((grown & (masks[e + 1] == children[1].label)).any())
        before = masks[e - 1] == p if comp[p].begin < e else np.zeros_like(masks[e], bool)
        kids = [masks[e + 1] == c.label for c in children]
        iou = [round(float((k & before).sum() / max((k | before).sum(), 1)), 2) for k in kids]
        inside = [round(float((k & before).sum() / max(k.sum(), 1)), 2) for k in kids]
        r_b = np.sqrt(max(before.sum(), 1) / np.pi)
        c_b = np.argwhere(before).mean(0) if before.any() else np.zeros(2)
        shift = [round(float(np.hypot(*(np.argwhere(k).mean(0) - c_b)) / r_b), 2) for k in kids]
        row = {"true": true, "shift_before": shift, "iou_before": iou, "in_before": inside, "frame": e + first,
               "mother": p, "covers": sorted(
            r for r, (c, _) in matches[e].pairs.items() if c == p), "area": a_e, "area_before": a_b,
            "jump": round(a_e / a_b, 2) if a_b == a_b and a_b else None,
            "bright": round(float(images[e][masks[e] == p].mean()) / med_int, 2),
            "solidity": round(_solidity(masks[e] == p), 3), "mother/median": round(a_e / med_area, 2),
            "daughters": d, "shares": [round(x / a_e, 2) for x in d], "sym": round(max(d) / max(min(d), 1), 2),
            "cont": round(max(d) / a_b, 2) if a_b == a_b and a_b else None,
            "lives": [c.end - c.begin + 1 for c in children], "touch": touch,
            "d_covers": [sorted(r for r, (k, _) in matches[c.begin].pairs.items() if k == c.label) for c in children]}
        print(json.dumps(row))


if __name__ == "__main__":
    main()

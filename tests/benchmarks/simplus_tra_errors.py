"""Every TRA error of a trained SIM+ tracking run, by kind, with its frame and cells (run by hand).

Run: PYTHONPATH=. python tests/benchmarks/simplus_tra_errors.py RUN_DIR --cache CACHE [--split test]
RUN_DIR, CACHE: as in ``simplus_division_errors.py`` (post-processing: the run's postprocess.json).
Prints the AOGM counts, then one line per error: missed cells (FN: *not found*, *split* into pieces none of which
covers half of it, or *too small* an outline), merged cells (NS: one object over k cells), false objects (FP: a
*piece* of a true cell another object matches, a piece of a *missed* cell, or *nothing* true under it) and wrong,
missing or changed links (ED, EA, EC), each link marked *detection* when an end is a missed or merged cell (it
follows from the detection error) or *linking* when both ends are found. Frames counted from the sequence start.
"""

from __future__ import annotations

from collections import Counter

import numpy as np


def _missed_kind(truth: np.ndarray, comp: np.ndarray, label: int) -> str:
    cell = truth == label
    under = comp[cell]
    labels, counts = np.unique(under[under > 0], return_counts=True)
    if counts.sum() < 0.2 * cell.sum():
        return "not found"
    if (counts >= 0.2 * cell.sum()).sum() >= 2:
        return "split"
    return "too small"


def main() -> None:
    from builder.tracking.metrics import graph_edges
    from tests.benchmarks.simplus_tracked import parse_args, tracked_split

    args = parse_args()
    tracked = tracked_split(args.run, args.cache, args.split)
    scores, lineage, masks, ref_rows = tracked.scores, tracked.lineage, tracked.masks, tracked.ref_rows
    first, truths, matches = tracked.first, tracked.truths, tracked.matches
    print("TRA", round(scores["TRA"], 4), "DET", round(scores["DET"], 4), "SEG", round(scores["SEG"], 4),
          {k: scores.get(k) for k in ("NS", "FN", "FP", "ED", "EA", "EC")})
    kinds: Counter[str] = Counter()
    bad: set[tuple[int, int]] = set()  # reference vertices missed or merged
    to_ref: dict[tuple[int, int], tuple[int, int]] = {}
    for t, m in enumerate(matches):
        counts = m.times_matched()
        for r in m.ref:
            if r not in m.pairs:
                kind = _missed_kind(truths[t], masks[t], r)
                kinds[f"FN {kind}"] += 1
                bad.add((t, r))
                print(f"FN {kind}: frame {t + first} cell {r}")
        for c, k in counts.items():
            if k > 1:
                cells = sorted(r for r, (cc, _) in m.pairs.items() if cc == c)
                kinds["NS merged"] += k - 1
                bad.update((t, r) for r in cells)
                print(f"NS merged: frame {t + first} object {c} over cells {cells}")
        for r, (c, _) in m.pairs.items():
            if counts[c] == 1:
                to_ref[(t, c)] = (t, r)
        for c in m.comp:
            if c in counts:
                continue
            under = truths[t][masks[t] == c]
            cells = sorted(set(np.unique(under[under > 0]).tolist()))
            kind = ("nothing" if not cells else "piece of a missed cell" if any(r not in m.pairs for r in cells)
                    else "piece")
            kinds[f"FP {kind}"] += 1
            print(f"FP {kind}: frame {t + first} object {c} (area {int((masks[t] == c).sum())}) on cells {cells}")
    ref_edges = graph_edges([m.ref for m in matches], ref_rows)
    comp_edges = graph_edges([m.comp for m in matches], lineage.tracks)
    mapped = {(to_ref[a], to_ref[b]): (kind, (a, b)) for (a, b), kind in comp_edges.items()
              if a in to_ref and b in to_ref}
    for (a, b), (kind, comp) in mapped.items():
        if (a, b) not in ref_edges:
            kinds["ED linking"] += 1
            print(f"ED: computed link {comp} joins cells {a}->{b} (frames {a[0] + first}->{b[0] + first})")
        elif ref_edges[(a, b)] != kind:
            kinds["EC"] += 1
            print(f"EC: link {a}->{b} (frame {a[0] + first}) is a {'parent' if kind else 'track'} link")
    for (a, b), kind in ref_edges.items():
        if (a, b) in mapped:
            continue
        cause = "detection" if a in bad or b in bad else "linking"
        kinds[f"EA {cause}"] += 1
        print(f"EA {cause}: true {'parent' if kind else 'track'} link {a}->{b} (frames {a[0] + first}->"
              f"{b[0] + first})")
    print("by kind:", dict(sorted(kinds.items())))


if __name__ == "__main__":
    main()

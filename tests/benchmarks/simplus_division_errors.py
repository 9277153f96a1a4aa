"""Which divisions a trained SIM+ tracking run misses or invents on the test frames, and what the tracker did there
(run by hand).

Run: PYTHONPATH=. python tests/benchmarks/simplus_division_errors.py RUN_DIR --cache CACHE [--split test]
        [--set seed_threshold=0.3 ...]
RUN_DIR: a run of tests/benchmarks/simplus_tracking.yaml (only read); network outputs cached as in
``simplus_division_tuning.py``. Post-processing: the run's postprocess.json, changed by ``--set``.
Prints every true division (frame of the mother's last marker, labels) with the computed tracks that cover the
mother and the daughters (±2 frames as BC(2) scores) and every computed division that matches none, with the true
cells its mother and daughters cover. Frames are counted from the start of the sequence.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

TOL = 2


def _covering(matches: list[Any], t: int, ref_label: int) -> int:
    """The computed label covering true cell ``ref_label`` in split frame ``t`` (0: none)."""
    if t < 0 or t >= len(matches):
        return 0
    return matches[t].pairs.get(ref_label, (0,))[0]


def _covered(matches: list[Any], t: int, comp_label: int) -> list[int]:
    if t < 0 or t >= len(matches):
        return []
    return sorted(r for r, (c, _) in matches[t].pairs.items() if c == comp_label)


def main() -> None:
    from builder.tasks.tracking import _reference, _track_sequences
    from builder.tracking.matching import match_frame
    from builder.tracking.metrics import _divisions
    from builder.workflow.evaluate_job import _samples_from_split_json
    from builder.workflow.inference import interpret_output, postprocess_settings
    from builder.workflow.model_source import open_model_source
    from tests.benchmarks.simplus_division_tuning import _outputs

    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--set", nargs="*", default=[])
    args = parser.parse_args()
    source = open_model_source(args.run)
    recipe = source.recipe
    samples = _samples_from_split_json(args.run, args.split)
    loaded, outs = _outputs(source, samples, args.cache, args.split)
    params = postprocess_settings(recipe, json.loads((args.run / "postprocess.json").read_text()))
    for item in args.set:
        key, value = item.split("=")
        params[key] = type(params[key])(value)
    results = [interpret_output(o, recipe, params) for o in outs]
    outs = [r.get("output", o) for r, o in zip(results, outs, strict=True)]
    preds = [r["prediction"] for r in results]
    (_name, idx, scores, lineage, masks), = _track_sequences(loaded, outs, preds, recipe, None)
    ref_rows, _seg, first = _reference([loaded.samples[i] for i in idx])
    truths = np.stack([loaded.targets[i][..., 0].astype(np.int32) for i in idx])
    matches = [match_frame(truths[t], masks[t]) for t in range(len(idx))]
    comp = {r.label: r for r in lineage.tracks}
    ref = {r.label: r for r in ref_rows}
    counts = {k: scores.get(k) for k in ("NS", "FN", "FP", "ED", "EA", "EC")}
    print("settings", json.dumps(params), "| counts", counts, "| div tp/fp/fn",
          [scores.get(f"division_{x}({TOL})") for x in ("tp", "fp", "fn")], "| TRA", round(scores["TRA"], 4))
    for p, children in sorted(_divisions(ref_rows).items()):
        end = ref[p].end
        mother = _covering(matches, end, p)
        areas = [int((truths[c.begin] == c.label).sum()) for c in children]
        line = [f"true division: mother {p} ends frame {end + first} (area {int((truths[end] == p).sum())}), "
                f"daughters {[(c.label, c.begin + first) for c in children]} (areas {areas}); computed mother "
                f"track {mother}"]
        if mother:
            line.append(f"(frames {comp[mother].begin + first}-{comp[mother].end + first}, parent "
                        f"{comp[mother].parent})")
        for c in children:
            found = [(_covering(matches, c.begin + d, c.label)) for d in range(0, TOL + 1)]
            tracks = [f"{k}: frames {comp[k].begin + first}-{comp[k].end + first} parent {comp[k].parent}"
                      for k in dict.fromkeys(found) if k]
            line.append(f"| daughter {c.label}: covered at +0..+{TOL} by {found} [{'; '.join(tracks)}]")
        print(" ".join(line))
    for p, children in sorted(_divisions(lineage.tracks).items()):
        end = comp[p].end
        mother_cells = _covered(matches, end, p)
        kids = [(c.label, c.begin + first, _covered(matches, c.begin, c.label), int((masks[c.begin] == c.label).sum()),
                 c.end - c.begin + 1) for c in children]
        truth_div = [m for m in mother_cells if m in _divisions(ref_rows)]
        print(f"computed division: mother {p} ends frame {end + first} covering true {mother_cells} "
              f"(true mother of a division: {truth_div}), area {int((masks[end] == p).sum())}; daughters (label, "
              f"first frame, true cells covered, area, frames) {kids}")


if __name__ == "__main__":
    main()

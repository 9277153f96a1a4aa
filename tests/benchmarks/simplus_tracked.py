"""The SIM+ error benchmarks' common start: a run's cached outputs on one split, tracked as ``evaluate`` tracks them.

Used by ``simplus_division_features.py`` and ``simplus_tra_errors.py`` (``RUN --cache CACHE [--split S]``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class TrackedSplit:
    loaded: Any  # the split's loaded samples
    idx: list[int]  # sample indices in frame order
    scores: dict[str, Any]  # the CTC measures of the tracked split
    lineage: Any  # the computed tracks
    masks: np.ndarray  # (T, Y, X) computed labels
    ref_rows: list[Any]  # the ground truth's tracks
    first: int  # the split's first frame in the sequence
    truths: np.ndarray  # (T, Y, X) ground-truth labels
    matches: list[Any]  # per frame, ground truth to computed objects


def parse_args(description: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("run", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--split", default="test")
    return parser.parse_args()


def tracked_split(run: Path, cache: Path, split: str) -> TrackedSplit:
    """Track ``split`` of ``run`` from the network outputs cached in ``cache`` (computed on first use)."""
    from builder.tasks.tracking import _reference, _track_sequences
    from builder.tracking.matching import match_frame
    from builder.workflow.evaluate_job import _samples_from_split_json
    from builder.workflow.inference import interpret_output, postprocess_settings
    from builder.workflow.model_source import open_model_source
    from tests.benchmarks.simplus_division_tuning import _outputs

    source = open_model_source(run)
    recipe = source.recipe
    loaded, outs = _outputs(source, _samples_from_split_json(run, split), cache, split)
    params = postprocess_settings(recipe, json.loads((run / "postprocess.json").read_text()))
    results = [interpret_output(o, recipe, params) for o in outs]
    outs = [r.get("output", o) for r, o in zip(results, outs, strict=True)]
    (_name, idx, scores, lineage, masks), = _track_sequences(loaded, outs, [r["prediction"] for r in results],
                                                             recipe, None)
    ref_rows, _seg, first = _reference([loaded.samples[i] for i in idx])
    truths = np.stack([loaded.targets[i][..., 0].astype(np.int32) for i in idx])
    matches = [match_frame(truths[t], masks[t]) for t in range(len(idx))]
    return TrackedSplit(loaded, list(idx), scores, lineage, masks, ref_rows, first, truths, matches)

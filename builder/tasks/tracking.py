"""Tracking: segment every frame of a time-lapse with an instance model, then link the cells into lineages.

The network and its training are those of instance segmentation (three-class or distance targets + watershed),
learned from the SEG masks of the Cell Tracking Challenge layout (the TRA markers where a frame has no SEG mask).
Frames are split by time: the last frames of each sequence are the test frames. Evaluation tracks the test
frames (:mod:`builder.tracking`; objects that swallowed two cells of the frame before are cut apart first,
:mod:`builder.tracking.split_merges`) and scores them with the CTC measures (TRA, DET, SEG, LNK, CT, division F1)
against the TRA markers. ``predict`` on the frames of a time-lapse writes per-frame labels, the CTC result files
(``tracks/maskTTT.tif``, ``tracks/res_track.txt``) and a tracks table (``tracks.csv``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.errors import CellwrightError
from builder.tasks.base import flat_numbers, register_task, require_targets
from builder.tasks.instance_segmentation import InstanceSegmentation

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: Frame tolerance of the division scores the report shows.
DIVISION_TOLERANCE = 2


def _frame_number(sample: Any) -> int:
    from builder.data.timelapse import frame_number

    return frame_number(sample)


def _reference(samples: Sequence[Any]) -> tuple[list[Any], dict[int, np.ndarray], int]:
    """(tracks cropped to the frames of ``samples``, SEG masks by frame index, first frame number)."""
    from builder.data.timelapse import sequence_truth
    from builder.tracking.reference import crop_tracks

    numbers = [_frame_number(s) for s in samples]
    start, stop = numbers[0], numbers[-1] + 1
    truth = sequence_truth(samples[0])
    seg = {}
    for i, number in enumerate(numbers):
        mask = truth.seg(number)
        if mask is not None:
            seg[i] = mask
    return crop_tracks(truth.tracks, start, stop), seg, start


def link_settings(recipe: Recipe | None) -> Any:
    """:class:`~builder.tracking.linker.LinkSettings` from the recipe's ``evaluate.tracking`` (defaults: None)."""
    from builder.tracking.linker import LinkSettings

    if recipe is None:
        return LinkSettings()
    cfg = recipe.evaluate.tracking
    return LinkSettings(max_gap=cfg.max_gap, divisions=cfg.divisions, radius=cfg.search_radius)


#: Most frames per sequence the learned link scorer is trained on (the last ones before the test frames).
SCORER_FRAMES = 30


def uses_learned_scorer(recipe: Recipe | None) -> bool:
    """Whether the recipe links with the learned scorer (``evaluate.tracking.link_scorer: learned``)."""
    return recipe is not None and recipe.evaluate.tracking.link_scorer == "learned"


def scorer_sequences(samples: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray, list[Any]]]:
    """(TRA markers, raw frames, lineage rows) of the frames the learned scorer is trained on.

    ``samples``: the frames that are not test frames. Per sequence, the last unbroken run of them, at most
    :data:`SCORER_FRAMES` long (the frames right before the test frames when the split is by time).
    """
    from builder.data.timelapse import sequence_truth
    from builder.tracking.reference import crop_tracks

    by_sequence: dict[str, list[Any]] = {}
    for sample in samples:
        by_sequence.setdefault(str(sample.group or sample.image_path), []).append(sample)
    out = []
    for _, group in sorted(by_sequence.items()):
        numbers = sorted({_frame_number(s) for s in group})
        run = [numbers[-1]]
        while len(run) < SCORER_FRAMES and run[0] - 1 in numbers:
            run.insert(0, run[0] - 1)
        truth = sequence_truth(group[0])
        masks: list[np.ndarray] = []
        images: list[np.ndarray] = []
        for number in reversed(run):  # the unbroken frames with markers, back from the last one
            marker, frame = truth.markers(number), truth.raw(number)
            if marker is None or frame is None:
                break
            masks.insert(0, marker)
            images.insert(0, frame)
        if len(masks) < 2:
            continue
        first = run[-1] - len(masks) + 1
        out.append((np.stack(masks), np.stack(images), crop_tracks(truth.tracks, first, run[-1] + 1)))
    return out


def link_scorer(recipe: Recipe | None, companions: Mapping[str, Any] | None) -> Any:
    """The learned :data:`~builder.tracking.linker.LinkScorer` saved with the model, when the recipe asks for it.

    Raises
    ------
    CellwrightError
        When the recipe asks for the learned scorer and the run or bundle has none.
    """
    if not uses_learned_scorer(recipe):
        return None
    from builder.run_folder import files
    from builder.tracking.learned import keras_scorer

    model = (companions or {}).get(files.LINK_SCORER.name)
    if model is None:
        raise CellwrightError(
            "evaluate.tracking.link_scorer", "Expected the learned link scorer saved with the model "
            f"({files.LINK_SCORER.name} in the run folder or bundle). Received: link_scorer=learned and a model "
            "without one (trained before the scorer was saved, or the file was removed).",
            "Train the recipe again (the scorer is trained on the training frames' ground-truth tracks and saved "
            "with the run), or set evaluate.tracking.link_scorer: rules in the run's recipe.yaml.")
    return keras_scorer(model)


def track_frames(labels: Sequence[np.ndarray], images: Sequence[np.ndarray] | None = None,
                 settings: Any = None, scorer: Any = None, interiors: Sequence[np.ndarray] | None = None
                 ) -> tuple[Any, np.ndarray]:
    """Give small pieces back to the cell they touch (:mod:`builder.tracking.fragments`), cut merged objects apart
    with the frame before (:mod:`builder.tracking.split_merges`, on the ``interiors`` probabilities where given),
    then link; returns (lineage, (T, Y, X) uint16 masks labelled by track)."""
    from builder.tracking.fragments import absorb_pieces
    from builder.tracking.lineage import lineage_from_graph
    from builder.tracking.linker import track
    from builder.tracking.split_merges import split_merged

    stack = split_merged(absorb_pieces(np.stack([np.asarray(x) for x in labels])),
                         None if interiors is None else np.stack([np.asarray(x) for x in interiors]))
    frames = None if images is None else np.stack([np.asarray(x, np.float32).mean(axis=-1) if np.ndim(x) == 3
                                                   else np.asarray(x, np.float32) for x in images])
    lineage = lineage_from_graph(track(stack, frames, settings, scorer))
    return lineage, lineage.relabel(stack)


def tracks_table(masks: np.ndarray, lineage: Any, images: Sequence[np.ndarray] | None = None) -> list[dict[str, Any]]:
    """One row per track and frame: track id, frame, centroid, area, mean intensity, parent."""
    from builder.tracking.detections import frame_objects

    parents = lineage.parents()
    rows = []
    for t, frame in enumerate(masks):
        image = None if images is None else np.asarray(images[t], np.float64)
        objects = frame_objects(frame, image)
        for k, label in enumerate(objects.labels):
            rows.append({"track_id": int(label), "frame": t, "centroid_y": round(float(objects.centroids[k, 0]), 2),
                         "centroid_x": round(float(objects.centroids[k, 1]), 2), "area": int(objects.areas[k]),
                         "mean_intensity": round(float(objects.intensities[k]), 4),
                         "parent": int(parents.get(int(label), 0))})
    return rows


#: How much better (mean of DET and SEG) tuned thresholds must do on the validation frames than the recipe's to
#: replace them: a handful of frames holds few close cells, so a lower seed threshold that merges them more
#: often elsewhere can look as good as the recipe's by chance (measured: 0.0008 better on 6 SIM+ validation frames,
#: three times as many merged cells on the 20 test frames).
TUNING_MARGIN = 0.005


def detection_score(truths: Sequence[np.ndarray], preds: Sequence[np.ndarray]) -> float:
    """Mean of the CTC DET and SEG measures of per-frame objects (each frame on its own, links not scored).

    The tracking task tunes its post-processing with this instead of the average precision: it counts a merge
    or a split as the tracking measures do (a merge loses a cell, a split adds one), and SEG weighs outlines.
    Cells nobody outlined (negative labels) are not scored.
    """
    from builder.tracking.lineage import TrackRow
    from builder.tracking.metrics import ctc_scores

    ref: list[np.ndarray] = []
    comp: list[np.ndarray] = []
    ref_rows: list[TrackRow] = []
    comp_rows: list[TrackRow] = []
    for t, (truth, pred) in enumerate(zip(truths, preds, strict=True)):
        for stack, rows, frame in ((ref, ref_rows, np.maximum(np.asarray(truth), 0)), (comp, comp_rows, pred)):
            frame = np.asarray(frame, np.int64)
            offset = max((r.label for r in rows), default=0)
            shifted = np.where(frame > 0, frame + offset, 0)
            rows.extend(TrackRow(int(label), t, t, 0) for label in np.unique(shifted[shifted > 0]))
            stack.append(shifted)
    ref_stack, comp_stack = np.stack(ref), np.stack(comp)
    scores = ctc_scores(ref_stack, ref_rows, comp_stack, comp_rows, dict(enumerate(ref_stack)))
    return 0.5 * (float(scores["DET"] or 0.0) + float(scores["SEG"] or 0.0))


def segmentation_score(truths: Sequence[np.ndarray], preds: Sequence[np.ndarray]) -> float:
    """The CTC SEG measure of per-frame objects: mean IoU of each true cell with the cell found there (0 when
    none covers more than half of it). Cells nobody outlined (negative labels) are not scored."""
    from builder.tracking.metrics import match_frame, seg_measure

    return seg_measure([match_frame(np.maximum(np.asarray(t, np.int64), 0), np.asarray(p, np.int64))
                        for t, p in zip(truths, preds, strict=True)])


@register_task
class Tracking(InstanceSegmentation):
    """Follow cells through a time-lapse: per-frame instance segmentation, then linking into lineages."""

    name = "tracking"
    title = "Cell tracking"
    description = "cell tracking (every cell segmented in every frame and followed through divisions)"
    card = ("Track cells over time", "Follow every cell through a time-lapse, with divisions (lineage trees).")
    layouts = ("ctc", "demo")
    time_lapse = True
    proposes_annotations = False  # a time-lapse is corrected track by track, not image by image
    accepts_trained_segmenter = True
    headline = ("TRA", "TRA")
    min_train_images = 10
    predict_files = ("{stem}_prob.tif", "{stem}_labels.tif", "{stem}_objects.csv")
    predict_summary_files = ("objects.csv", "tracks.csv", "tracks/res_track.txt", "lineage.png",
                             "tracks_overlay.png", "kymograph.png")
    overlay_caption = ("Test frames, outlines coloured by track: the same colour in two frames is the same cell "
                       "(green = matched to a true cell, red = false, yellow = missed).")
    shows_threshold_table = False
    report_metrics = (
        ("TRA", ("TRA",), "Cell Tracking Challenge tracking accuracy: 1 minus the weighted number of graph "
         "corrections (missed, false, split cells; wrong, missing links) needed to reach the truth; 1 is perfect.",
         True),
        ("DET", ("DET",), "Detection accuracy: the same, counting only cell detections.", True),
        ("SEG", ("SEG",), "Mean overlap (IoU) of each annotated cell with the cell found there (0 when missed).",
         True),
        ("LNK", ("LNK",), "Linking accuracy: the same as TRA, counting only links between cells.", True),
        ("Complete tracks", ("CT",), "Share of true tracks followed from start to end by one track.", True),
        (f"Division F1 (±{DIVISION_TOLERANCE} frames)", (f"BC({DIVISION_TOLERANCE})",),
         "Divisions found with the right mother and daughters, within two frames (precision and recall "
         "combined).", True),
        ("True divisions", ("divisions_true",), "Divisions in the ground truth of the test frames.", True),
    )

    def postprocess_settings(self, recipe: Recipe) -> dict[str, Any]:
        """The instance settings and the output's shift (:mod:`builder.tasks.registration`; 0 until tuned)."""
        from builder.tasks.registration import SHIFT_KEYS

        return {**super().postprocess_settings(recipe), **dict.fromkeys(SHIFT_KEYS, 0.0)}

    def postprocesses_on_grid(self, recipe: Recipe) -> bool:
        """Tracking links and shifts full-size outputs (:func:`shift_output`): they are interpolated first."""
        return False

    def interpret(self, output: np.ndarray, recipe: Recipe, params: Mapping[str, Any]) -> dict[str, Any]:
        """Labels of one frame, after moving the output by the tuned shift (``shift_y``, ``shift_x``); the moved
        output is returned as ``output`` (the probabilities saved and used for linking match the labels)."""
        from builder.tasks.registration import shift_of, shift_output

        moved = shift_output(output, *shift_of(params), recipe.train.instance_target)
        return {**super().interpret(moved, recipe, params), "output": moved}

    def tune_postprocess(self, outputs: list[np.ndarray], truths: list[np.ndarray], recipe: Recipe,
                         start: Mapping[str, Any], progress: Callable[[int, int], None] | None = None,
                         loaded: Any = None) -> dict[str, Any]:
        """Thresholds that give the best CTC detection and segmentation (:func:`detection_score`) on the
        validation frames: what tracking is scored on, where the average precision would favour merges.

        Settings within :data:`TUNING_MARGIN` of the best are told apart by the division F1 of the validation
        frames tracked with them (when ``loaded`` holds the frames with their ground-truth tracks): the margin
        keeps the recipe's thresholds where the detection score cannot tell, but must not trade divisions away.
        Then the foreground threshold, which sets the outlines, is moved on a finer grid to the value with the
        best SEG (:func:`segmentation_score`) that keeps the detection score within the margin, when its SEG is
        more than the margin higher. Last, the output is registered with the true cells
        (:func:`~builder.tasks.registration.tune_shift`): shifted by the opposite of the found objects' mean
        offset when that raises the validation SEG by more than the margin.
        """
        from builder.tasks.instances import postprocess_instances, tune_postprocess
        from builder.tasks.registration import shift_output, tune_shift

        tie_break = None
        if loaded is not None and getattr(loaded, "samples", None) and len(loaded.samples) == len(outputs):
            def tie_break(preds: list[np.ndarray]) -> float:  # linked by the rules: the scorer may not exist yet
                per_sequence = [s for _, _, s, _, _ in _track_sequences(loaded, outputs, preds, recipe, None)]
                return float(np.mean([s.get(f"BC({DIVISION_TOLERANCE})") or 0.0 for s in per_sequence]))

        tuned = tune_postprocess(outputs, truths, target=recipe.train.instance_target, start=dict(start),
                                 min_size=start["min_size"], score_fn=detection_score, margin=TUNING_MARGIN,
                                 progress=progress, tie_break=tie_break, extent_fn=segmentation_score)
        same_seeds = [r for r in tuned["tried"] if r["seed_threshold"] == tuned["seed_threshold"]
                      and r["min_size"] == tuned["min_size"]]
        # the threshold may have been moved by the outline stage: the first stage's row then holds the division F1
        first_stage = [r for r in same_seeds if "tie_break" in r]
        chosen: dict[str, Any] = next((r for r in first_stage if r["threshold"] == tuned["threshold"]),
                                      first_stage[0] if first_stage else {})
        out = {"threshold": tuned["threshold"], "seed_threshold": tuned["seed_threshold"],
               "min_size": tuned["min_size"], "tuned_on": len(outputs), "score": tuned["score"],
               "start_score": tuned["start_score"], "score_name": "mean of DET and SEG (validation frames)"}
        if "extent_score" in tuned:
            out["seg"] = tuned["extent_score"]
            out["start_seg"] = tuned["start_extent_score"]
            out["seg_name"] = (f"SEG of the validation frames, choosing the foreground threshold (kept unless "
                               f"{TUNING_MARGIN} better, detection within {TUNING_MARGIN})")
        if "tie_break" in chosen:
            out["division_f1"] = chosen["tie_break"]
            out["division_f1_name"] = (f"division F1 (±{DIVISION_TOLERANCE} frames) of the validation frames, "
                                       f"deciding between settings within {TUNING_MARGIN} of the best score")
        chosen_settings = {k: out[k] for k in ("threshold", "seed_threshold", "min_size")}
        target = recipe.train.instance_target

        def shifted(dy: float, dx: float) -> list[np.ndarray]:
            return [postprocess_instances(shift_output(o, dy, dx, target), target, **chosen_settings) for o in outputs]

        if not recipe.evaluate.postprocess.register_shift:  # the user turned registration off: no shift
            out.update({"shift_y": 0.0, "shift_x": 0.0})
            return out
        out.update(tune_shift(shifted, truths, segmentation_score, TUNING_MARGIN))
        out["shift_name"] = (f"shift (pixels) of the output registering the found cells with the true ones (kept "
                             f"when the validation SEG rises by more than {TUNING_MARGIN})")
        return out

    def companion_files(self, recipe: Recipe) -> tuple[str, ...]:
        """The learned link scorer, when the recipe links with it."""
        from builder.run_folder import files

        return (files.LINK_SCORER.name,) if uses_learned_scorer(recipe) else ()

    def fit_companions(self, recipe: Recipe, dataset: Any, run_dir: Path, events: Any = None) -> list[Path]:
        """Train the learned link scorer on the ground-truth tracks of the frames that are not test frames and
        save it in the run folder (kept when it is there already: a resumed run)."""
        if not uses_learned_scorer(recipe):
            return []
        from builder.run_folder import files
        from builder.tracking.learned import scorer_model

        path = Path(run_dir) / files.LINK_SCORER.name
        if path.is_file():
            return [path]
        samples = [s for split in ("train", "validation") for s in dataset.splits.get(split) or []]
        sequences = scorer_sequences(samples)
        if not sequences:
            raise CellwrightError(
                "evaluate.tracking.link_scorer", "Expected training frames with ground-truth tracks (TRA markers "
                "in two or more consecutive frames) to train the learned link scorer. Received: none.",
                "Add the CTC tracking ground truth (NN_GT/TRA) of the training frames, or set "
                "evaluate.tracking.link_scorer: rules.")
        if events is not None:
            from builder.events import make_event

            n_frames = sum(len(masks) for masks, _, _ in sequences)
            events(make_event("log", message=f"Training the learned link scorer on {n_frames} frame(s) of "
                                             "ground-truth tracks..."))
        try:
            model = scorer_model(sequences)
        except ValueError as err:
            raise CellwrightError("evaluate.tracking.link_scorer", f"Could not train the learned link scorer: {err}.",
                                  "Use more training frames with moving cells, or set "
                                  "evaluate.tracking.link_scorer: rules.") from None
        from builder.io_utils import atomic_save_keras

        atomic_save_keras(model, path)
        return [path]

    def new_recipe_data(self, root: str) -> dict[str, Any]:
        return {"layout": "ctc", "root": root, "split": {"mode": "random", "validation": 0.15, "test": 0.3}}

    def score(self, loaded: Any, xs: list, outs: list, results: list, ctx: Any) -> tuple[dict, list, list, list]:

        require_targets(loaded, "test frames")
        outs = [r.get("output", o) for r, o in zip(results, outs, strict=True)]  # as post-processed (shifted)
        truths = [t[..., 0].astype(np.int32) for t in loaded.targets]
        preds = [r["prediction"] for r in results]
        per_sequence: list[dict[str, Any]] = []
        tracked: list[np.ndarray] = [np.zeros(0, np.int32)] * len(preds)
        tracks: list[dict[str, Any]] = []
        scorer = link_scorer(ctx.recipe, ctx.companions)
        for name, idx, scores, lineage, masks in _track_sequences(loaded, outs, preds, ctx.recipe, scorer):
            first = _frame_number(loaded.samples[idx[0]])
            per_sequence.append(scores)
            for k, i in enumerate(idx):
                tracked[i] = masks[k]
            tracks += [{"sequence": name, "label": r.label, "begin": r.begin + first, "end": r.end + first,
                        "parent": r.parent} for r in lineage.tracks]
        m = _mean_scores(per_sequence)
        m["tracks"] = tracks
        m["n_images"] = len(preds)
        per_frame = []
        for truth, pred in zip(truths, tracked, strict=True):
            found = len(set(np.unique(truth[(truth > 0) & (pred > 0)])))
            total = len(np.unique(truth[truth > 0]))
            per_frame.append({"score": found / total if total else 1.0, "cells": total, "tracked": int(
                len(np.unique(pred[pred > 0])))})
        return m, truths, tracked, per_frame

    def flat_metrics(self, m: Mapping[str, Any]) -> dict[str, float]:
        return flat_numbers(m, ("n_images",))

    def extra_results(self, m: Mapping[str, Any]) -> dict[str, Any]:
        return {"tracks": m.get("tracks", [])}

    def baseline(self, recipe: Recipe, images: Sequence[np.ndarray], truths: Sequence[Any]) -> dict[str, Any] | None:
        return None

    def write_summary(self, out_dir: Any, rows: list, objects: list, recipe: Any = None,
                      companions: Mapping[str, Any] | None = None) -> list:
        """Objects table, then per time-lapse: linking, CTC result files, the tracks table and the lineage.

        Rows of one multi-page file form one sequence (``<name>/tracks/`` when there are several); separate
        frame files given together form one sequence in file order. Cells are linked with the recipe's
        ``evaluate.tracking`` settings (the ones the run was scored with), with the learned link scorer saved
        with the model when the recipe asks for it.
        """
        written = super().write_summary(out_dir, rows, objects)
        scorer = link_scorer(recipe, companions) if sequences_in(rows) else None
        sequences: dict[str, list[dict]] = {}
        for row in rows:
            if any(str(p).endswith("_labels.tif") for p in row.get("outputs", [])):
                sequences.setdefault(str(row.get("sequence", "")), []).append(row)
        for name, seq_rows in sequences.items():
            folder = Path(out_dir) if len(sequences) == 1 else Path(out_dir) / name
            written += _write_tracks(folder, seq_rows, link_settings(recipe), scorer)
        return written

    def report_figures(self, run: Any) -> list[tuple[str, bytes | None, str]]:
        from builder.tracking.figures import kymograph, lineage_tree, track_overlays

        tracks = (run.metrics or {}).get("tracks") or []
        first = next((t.get("sequence") for t in tracks), None)
        tree = lineage_tree([t for t in tracks if t.get("sequence") == first])
        frames = sorted(run.evaluation, key=lambda s: s.name)
        begins = [int(t["begin"]) for t in tracks if t.get("sequence") == first and "begin" in t]
        overlays = track_overlays([s.arrays["image"] for s in frames], [s.arrays["prediction"] for s in frames],
                                  first_frame=min(begins, default=0)) if frames else None
        kymo = kymograph([s.arrays["image"] for s in frames], [s.arrays["prediction"] for s in frames],
                         {int(t["label"]): int(t.get("parent") or 0) for t in tracks if t.get("sequence") == first}
                         ) if frames else None
        return [("Lineage", tree, "Tracks found in the test frames (frames counted from the start of the "
                 "sequence): each line is one cell, a fork is a division (the mother ends, two daughters begin)."),
                ("Tracks over time", overlays, "Test frames with each cell outlined in the colour of its track, "
                 "its track number, and its path over the previous five frames."),
                ("Kymograph and track lengths", kymo, "Left: each row is one test frame (time runs downwards) "
                 "showing the brightest pixel of every image column, with each track's centre drawn in its "
                 "colour: a steady line is a cell followed over time, a line that stops short is a track that was "
                 "lost or a cell that left. Right: how many frames each track lasts.")]

    def methods_task(self, run: Any) -> str:
        return "tracking of cells through time-lapses (per-frame instance segmentation followed by linking)"

    def methods_extra(self, run: Any, cite: Any) -> str | None:
        from builder.tracking.division_checks import PIECES
        from builder.tracking.linker import DAUGHTER_MIN_SHARE

        seg = super().methods_extra(run, cite) or ""
        return (f"{seg} Small pieces touching one larger object were merged into it, and objects covering two "
                "cells of the previous frame were cut apart by a watershed from those cells. Cells were linked "
                "between frames by global linear assignment on centroid distance, overlap and appearance, with a "
                "search radius measured from the cells' displacements, closing of gaps of up to two frames and "
                f"detection of divisions (daughters of at least {DAUGHTER_MIN_SHARE:.0%} of the median object area, "
                "objects seen in one frame only excluded; a division was undone when one daughter had the mother's "
                f"size and place beside a newcomer, each had less than {PIECES:.0%} of her area, or the mother "
                "had been born the frame before); "
                "tracking was scored with the Cell Tracking Challenge measures (TRA, DET, SEG, LNK; Matula et al. "
                "2015) on the last frames of each sequence, which were not used for training.").strip()


def _track_sequences(loaded: Any, outs: Sequence[np.ndarray], preds: Sequence[np.ndarray], recipe: Recipe,
                     scorer: Any) -> list[tuple[str, list[int], dict[str, Any], Any, Any]]:
    """Track each sequence of a loaded split (frames in time order; ``scorer``: a learned link scorer or None)
    and score it against its TRA markers: (sequence name, frame indices, CTC scores with ``divisions_true``,
    lineage, track-labelled masks) each."""
    from builder.tracking.metrics import ctc_scores

    truths = [t[..., 0].astype(np.int32) for t in loaded.targets]
    by_sequence: dict[str, list[int]] = {}
    for i, sample in enumerate(loaded.samples):
        by_sequence.setdefault(sample.group or "01", []).append(i)
    out = []
    for name, idx in sorted(by_sequence.items()):
        idx = sorted(idx, key=lambda i: _frame_number(loaded.samples[i]))
        rows, seg, _first = _reference([loaded.samples[i] for i in idx])
        interiors = [outs[i][..., 2] for i in idx] if np.ndim(outs[idx[0]]) == 3 and \
            np.shape(outs[idx[0]])[-1] == 3 else None  # three-class: the cell-interior probability
        lineage, masks = track_frames([preds[i] for i in idx], [loaded.images[i] for i in idx],
                                      link_settings(recipe), scorer, interiors)
        scores = ctc_scores(np.stack([truths[i] for i in idx]), rows, masks, lineage.tracks, seg)
        scores["divisions_true"] = sum(1 for p in {r.parent for r in rows if r.parent}
                                       if sum(r.parent == p for r in rows) > 1)
        out.append((name, idx, scores, lineage, masks))
    return out


def sequences_in(rows: Sequence[Mapping[str, Any]]) -> bool:
    """Whether prediction rows hold any labelled frame to link."""
    return any(str(p).endswith("_labels.tif") for row in rows for p in row.get("outputs", []))


def _write_tracks(folder: Path, rows: list[dict[str, Any]], settings: Any = None, scorer: Any = None) -> list[Path]:
    """Link the frames of one sequence (their ``_labels.tif`` files); write ``tracks/``, ``tracks.csv``, the
    lineage, overlay and kymograph figures and the list of the frames' files (for the GUI's player)."""
    from builder.data.readers import read_image
    from builder.data.writers import write_rows_csv
    from builder.tracking.ctc_files import write_ctc_result
    from builder.tracking.figures import kymograph, lineage_tree, track_overlays
    from builder.tracking.movie import SOURCE_FILE

    labels, images, cache = [], [], {}
    for row in rows:
        path = next(Path(p) for p in row["outputs"] if str(p).endswith("_labels.tif"))
        labels.append(read_image(path).array[..., 0].astype(np.int32))
        if row["file"] not in cache:
            cache[row["file"]] = read_image(row["file"]).array
        raw = cache[row["file"]]
        images.append(raw[row["frame"]] if row.get("frame") is not None else raw)
    lineage, masks = track_frames(labels, images, settings, scorer)
    written = write_ctc_result(folder / "tracks", masks, lineage.tracks)
    written.append(write_rows_csv(folder / "tracks.csv", tracks_table(masks, lineage, images)))
    sources = folder / SOURCE_FILE
    sources.write_text("".join(f"{Path(f).resolve()}\n" for f in dict.fromkeys(str(r["file"]) for r in rows)),
                       encoding="utf-8")
    written.append(sources)
    figures = (("lineage.png", lineage_tree([{"label": r.label, "begin": r.begin, "end": r.end, "parent": r.parent}
                                             for r in lineage.tracks])),
               ("tracks_overlay.png", track_overlays(images, list(masks))),
               ("kymograph.png", kymograph(images, list(masks), lineage.parents())))
    for name, png in figures:
        if png is not None:
            (folder / name).write_bytes(png)
            written.append(folder / name)
    return written


def _mean_scores(per_sequence: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of each number over the sequences (None where no sequence has a value)."""
    out: dict[str, Any] = {}
    for key in per_sequence[0]:
        values = [s[key] for s in per_sequence if s.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    return out

"""Partly annotated SEG ground truth: cells marked (TRA) but not outlined (SEG) are not learned as background,
and SEG is scored the CTC way (only outlined cells of outlined frames count)."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.layouts import discover
from builder.data.partial_masks import IGNORE, ignore_unannotated
from builder.data.pipeline import load_split
from builder.tasks.instances import NO_CLASS, three_class_training_target
from builder.tracking.ctc_files import read_ctc_result, write_ctc_result
from builder.tracking.lineage import TrackRow
from builder.tracking.metrics import ctc_scores
from builder.tracking.reference import write_reference
from tests.builder.data.data_helpers import make_recipe
from tests.builder.tracking.drawing import draw
from tests.builder.tracking.timelapse_files import moving_cells, write_ome_tiff


def partial_frame() -> tuple[np.ndarray, np.ndarray]:
    """(SEG, markers): three cells marked; cells 1 and 3 outlined, cell 2 (at 48, 48) not."""
    cells = draw([[(16, 16, 6), (48, 48, 6), (76, 76, 6)]])[0]
    markers = draw([[(16, 16, 2), (48, 48, 2), (76, 76, 2)]])[0]
    seg = np.where(cells == 2, 0, cells)
    return seg, markers


def test_marked_but_unoutlined_cells_and_their_surroundings_get_no_class():
    seg, markers = partial_frame()
    mask = ignore_unannotated(seg, markers)
    cells = draw([[(16, 16, 6), (48, 48, 6), (76, 76, 6)]])[0]
    assert (mask[cells == 2] == IGNORE).all()  # the whole unoutlined cell: its marker grown by the cells' radius
    assert (mask[seg > 0] == seg[seg > 0]).all() and (mask[:5, :5] == 0).all()
    target = three_class_training_target(mask[..., None])[..., 0]
    assert (target[mask == IGNORE] == NO_CLASS).all() and set(np.unique(target)) == {0, 1, 2, NO_CLASS}
    assert np.array_equal(ignore_unannotated(cells, markers), cells)  # every cell outlined: unchanged


def test_the_loss_ignores_pixels_without_a_class():
    pytest.importorskip("keras")
    from builder.tasks.losses import make_loss

    seg, markers = partial_frame()
    target = three_class_training_target(ignore_unannotated(seg, markers)[..., None])[None]
    loss = make_loss("tracking", "cross_entropy+dice", n_classes=3)
    rng = np.random.default_rng(0)
    pred = rng.dirichlet([1, 1, 1], size=target.shape[1:3]).astype(np.float32)[None]
    other = pred.copy()
    ignored = target[0, ..., 0] == NO_CLASS
    other[0][ignored] = [0.0, 0.0, 1.0]  # calls the unoutlined cell a cell instead of whatever it was
    assert float(loss(target, pred)) == pytest.approx(float(loss(target, other)), rel=1e-6)
    changed = pred.copy()
    changed[0, 16, 16] = [1.0, 0.0, 0.0]  # an outlined cell's centre called background: costs more
    assert float(loss(target, changed)) > float(loss(target, pred))


def test_training_frames_of_a_partly_outlined_sequence_carry_the_ignore_region(tmp_path):
    frames, labels = moving_cells()
    write_ome_tiff(tmp_path / "01.ome.tif", frames)
    seg0 = np.where(labels[0] == 2, 0, labels[0])  # frame 0: cell 2 not outlined
    write_reference(tmp_path / "01_GT", labels, [TrackRow(1, 0, 5, 0), TrackRow(2, 0, 5, 0)], seg={0: seg0})
    recipe = make_recipe("tracking", data={"layout": "ctc", "split": {"validation": 0.2, "test": 0.34}})
    ds = discover(recipe, tmp_path)
    first = load_split(ds.splits["train"][:1], recipe.data, recipe.preprocess).targets[0][..., 0]
    assert (first[labels[0] == 2] == IGNORE).all() and (first[labels[0] == 1] == 1).all()


def test_seg_counts_only_outlined_cells_of_outlined_frames_like_py_ctcmetrics(tmp_path):
    ctc_metrics = pytest.importorskip("ctc_metrics")
    _, tra = moving_cells()
    tracks = [TrackRow(1, 0, 5, 0), TrackRow(2, 0, 5, 0)]
    seg = {1: np.where(tra[1] == 2, 0, tra[1]), 3: tra[3]}  # frame 1: only cell 1 outlined
    result = tra.copy()
    result[1][result[1] == 2] = 0  # the unoutlined cell missed in frame 1: SEG does not see it
    result[3][(result[3] == 1) & (np.indices(tra.shape[1:])[1] > 17)] = 0  # cell 1 in frame 3 cut in half
    rows = [TrackRow(1, 0, 5, 0), TrackRow(2, 0, 0, 0), TrackRow(3, 2, 5, 2)]
    result[2:][result[2:] == 2] = 3
    gt = write_reference(tmp_path / "01_GT", tra, tracks, seg)
    write_ctc_result(tmp_path / "01_RES", result, rows)
    ours = ctc_scores(tra, tracks, *read_ctc_result(tmp_path / "01_RES"), ref_seg=seg)
    theirs = ctc_metrics.evaluate_sequence(str(tmp_path / "01_RES"), str(gt), ["SEG"], threads=1)
    assert ours["SEG"] == theirs["SEG"]
    half = ((tra[3] == 1) & (np.indices(tra.shape[1:])[1] <= 17)).sum() / (tra[3] == 1).sum()
    assert ours["SEG"] == pytest.approx((1.0 + half + 1.0) / 3)  # three outlined cells; cell 2 of frame 1 absent

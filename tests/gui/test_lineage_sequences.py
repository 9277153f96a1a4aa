"""A tracking run scored on two sequences: the lineage tab lets the user choose the sequence shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from builder.data.demo_timelapse import simulate_timelapse, write_ctc


@pytest.fixture(scope="module")
def two_sequence_run(tmp_path_factory) -> Path:
    from builder.workflow.train_job import train_recipe
    from tests.builder.workflow.train_fixtures import tiny_recipe

    tmp = tmp_path_factory.mktemp("twoseq")
    data, other = tmp / "data", tmp / "other"
    for root, seed in ((data, 3), (other, 8)):
        images, labels, parents = simulate_timelapse(np.random.default_rng(seed), (48, 48), 12)
        write_ctc(root, images, labels, parents, pixel_size_um=0.5, seg_every=1)
    shutil.move(other / "01", data / "02")
    shutil.move(other / "01_GT", data / "02_GT")
    recipe = tiny_recipe(tmp, "tracking", epochs=1, data_dir=data)
    return train_recipe(recipe, runs_dir=tmp / "runs", export=False).run_dir


@pytest.mark.slow
def test_the_lineage_tab_shows_the_sequence_the_user_chooses(qtbot, two_sequence_run):
    from builder.tracking.movie import movie_from_run, run_sequences
    from gui.pages.lineage_view import LineagePane

    metrics = json.loads((two_sequence_run / "metrics.json").read_text())
    by_sequence = {}
    for t in metrics["tracks"]:
        by_sequence.setdefault(t["sequence"], []).append(t["label"])
    assert sorted(by_sequence) == ["01", "02"] == sorted(run_sequences(two_sequence_run))
    pane = LineagePane()
    qtbot.addWidget(pane)
    pane.resize(900, 700)
    pane.show()
    assert pane.set_run(two_sequence_run)
    assert pane.sequences.isVisible() and [pane.sequences.itemText(i) for i in range(2)] == ["01", "02"]
    first = {t["label"] for t in pane.view.tracks}
    assert first == set(by_sequence[pane.sequences.currentText()])
    first_frames = pane.player.movie.frames.copy()

    other = "02" if pane.sequences.currentText() == "01" else "01"
    pane.sequences.setCurrentText(other)  # the user picks the other sequence
    assert {t["label"] for t in pane.view.tracks} == set(by_sequence[other])
    movie = pane.player.movie
    assert movie is not None and not np.array_equal(movie.frames, first_frames)  # that sequence's own frames
    frames = [r for r in metrics["per_image"] if r.get("group") == other]
    assert movie.n_frames == len(frames)
    assert f"sequence {other}" in pane.note.text()
    _movie, tracks, _first = movie_from_run(two_sequence_run, other)
    assert tracks == pane.view.tracks

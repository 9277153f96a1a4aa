"""The data page plays a time-lapse with track overlays: CTC training data and a tracking result (real files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import Qt

from builder.data.demo_timelapse import simulate_timelapse, write_ctc
from builder.tracking.ctc_files import write_ctc_result
from builder.tracking.movie import SOURCE_FILE, relabel_seg_by_markers


@pytest.fixture(scope="module")
def ctc(tmp_path_factory) -> tuple[Path, list[tuple[int, int, int, int]]]:
    """A 12-frame 64² CTC sequence with a division (SEG masks on every third frame)."""
    root = tmp_path_factory.mktemp("ctc")
    images, labels, parents = simulate_timelapse(np.random.default_rng(3), (64, 64), 12)
    rows = write_ctc(root, images, labels, parents, pixel_size_um=0.5, seg_every=3)
    assert any(p for *_r, p in rows)  # at least one daughter
    return root, rows


def _data_page(qtbot, root: Path):
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    recipe = root.parent / f"{root.name}.yaml"
    recipe.write_text(f"cellwright: 1\nname: t\ntask: tracking\ndata: {{layout: ctc, root: {root}}}\n")
    doc = RecipeDocument()
    doc.load(recipe)
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.load_from_recipe()
    qtbot.waitUntil(lambda: page.timelapse.player.movie is not None, timeout=20000)  # read in a worker thread
    return page


def _frame_image(player) -> np.ndarray:
    image = player.viewer.grab().toImage().convertToFormat(player.viewer.grab().toImage().Format.Format_RGB888)
    width, height = image.width(), image.height()
    return np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * height).reshape(
        height, image.bytesPerLine())[:, : 3 * width].reshape(height, width, 3).copy()


def test_tracking_recipe_plays_its_ctc_sequence_with_ids_tails_and_divisions(qtbot, ctc):
    root, rows = ctc
    page = _data_page(qtbot, root)
    pane = page.timelapse
    assert page.tabs.currentWidget() is pane  # a tracking recipe opens on its time-lapse
    player = pane.player
    movie = player.movie
    assert movie is not None and movie.n_frames == 12 and len(movie.tracks) == len(rows)
    seg = tifffile.imread(root / "01_GT" / "SEG" / "man_seg003.tif")
    tra = tifffile.imread(root / "01_GT" / "TRA" / "man_track003.tif")
    player.set_frame(3)  # a frame with a SEG mask: whole cells, numbered by track
    assert np.array_equal(player.viewer.layers[0].labels, relabel_seg_by_markers(seg, tra))
    assert set(np.unique(player.viewer.layers[0].labels)) - {0} == set(np.unique(tra)) - {0}

    # play, pause and step on the viewer's t axis
    qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
    assert player.playing()
    qtbot.waitUntil(lambda: player.viewer.frame >= 5, timeout=10000)
    qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
    assert not player.playing()
    shown = player.viewer.frame
    qtbot.mouseClick(player.forward, Qt.MouseButton.LeftButton)
    assert player.viewer.frame == shown + 1 == player.viewer.image.t == player.slider.value()
    qtbot.mouseClick(player.back, Qt.MouseButton.LeftButton)
    assert player.viewer.frame == shown

    # a tail per track: one point per frame the track was present in over the last N frames
    t = 8
    player.set_frame(t)
    tra_t = tifffile.imread(root / "01_GT" / "TRA" / f"man_track{t:03d}.tif")
    lines = player.viewer.tail_lines()
    assert set(lines) == set(np.unique(tra_t)) - {0}
    for label, line in lines.items():
        begin = next(b for lab, b, _e, _p in rows if lab == label)
        assert line.size() == min(t - begin, player.tail.value()) + 1
    # the daughters of a division are joined to their mother's last position
    label, begin, _end, parent = next(r for r in rows if r[3])
    player.set_frame(begin)
    assert label in player.viewer.division_lines()
    player.tail.setValue(0)
    assert player.viewer.tail_lines()[label].size() == 1

    # tails are drawn: a long tail paints pixels a tail of 0 does not
    player.set_frame(11)
    without = _frame_image(player)
    player.tail.setValue(10)
    with_tails = _frame_image(player)
    assert (np.abs(with_tails.astype(int) - without).sum(axis=-1) > 60).sum() > 50


def test_a_tracking_result_plays_over_its_frames(qtbot, ctc, tmp_path):
    from builder.tasks.tracking import track_frames
    from gui.pages.track_player import TimelapsePane

    root, _rows = ctc
    tra = np.stack([tifffile.imread(root / "01_GT" / "TRA" / f"man_track{t:03d}.tif") for t in range(12)])
    frames = np.stack([tifffile.imread(root / "01" / f"t{t:03d}.tif") for t in range(12)])
    lineage, masks = track_frames(list(tra.astype(np.int32)), list(frames))  # the real linker
    write_ctc_result(tmp_path / "pred" / "tracks", masks, lineage.tracks)
    tifffile.imwrite(tmp_path / "movie.tif", frames, metadata={"axes": "TYX"})
    (tmp_path / "pred" / SOURCE_FILE).write_text(str(tmp_path / "movie.tif") + "\n")
    pane = TimelapsePane()
    qtbot.addWidget(pane)
    pane.resize(800, 600)
    pane.show()
    with qtbot.waitSignal(pane.loaded, timeout=20000) as done:
        pane.open_result(tmp_path / "pred" / "tracks")
    assert done.args == [True]
    movie = pane.player.movie
    assert movie.n_frames == 12 and np.array_equal(movie.frames[..., 0], frames)  # the predicted time-lapse
    assert [t.label for t in movie.tracks] == [t.label for t in lineage.tracks]
    pane.player.set_frame(6)
    assert np.array_equal(pane.player.viewer.layers[0].labels, masks[6])
    assert movie.n_divisions() == sum(1 for kids in movie.daughters().values() if len(kids) == 2) >= 1

    # a folder that is not a result: the error is shown in plain words, not raised
    with qtbot.waitSignal(pane.loaded, timeout=20000) as done:
        pane.open_result(tmp_path)
    assert done.args == [False]
    assert pane.player.movie is None and "res_track.txt" in pane.player.viewer.message


def test_clicking_a_cell_reports_its_track(qtbot, ctc):
    from builder.tracking.movie import movie_from_ctc
    from gui.pages.track_player import TrackPlayer

    root, _rows = ctc
    player = TrackPlayer()
    qtbot.addWidget(player)
    player.resize(600, 600)
    player.show()
    player.set_movie(movie_from_ctc(root))
    player.set_frame(4)
    label, (y, x) = next(iter(player.movie.centroids(4).items()))
    point = player.viewer.image_to_widget(type(player.viewer.center)(x + 0.5, y + 0.5)).toPoint()
    with qtbot.waitSignal(player.viewer.track_clicked) as signal:
        qtbot.mouseClick(player.viewer, Qt.MouseButton.LeftButton, pos=point)
    assert signal.args == [label]


def test_a_sequence_is_read_in_a_worker_while_the_window_keeps_running(qtbot, ctc):
    """The GUI thread's event loop runs while a sequence is read: a timer of the GUI thread fires during the
    reading (the reader waits for it), and the player says what it is reading meanwhile."""
    import threading

    from PySide6.QtCore import QTimer

    from builder.tracking.movie import movie_from_ctc
    from gui.pages.track_player import TimelapsePane

    root, rows = ctc
    pane = TimelapsePane()
    qtbot.addWidget(pane)
    pane.resize(800, 600)
    pane.show()
    ticked = threading.Event()
    reader_saw_tick: list[bool] = []

    def read():
        reader_saw_tick.append(ticked.wait(10))  # a GUI-thread read would block the timer: this would time out
        return movie_from_ctc(root, "01")

    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(ticked.set)
    with qtbot.waitSignal(pane.loaded, timeout=30000) as done:
        pane._show(read, "probe")
        assert pane.loading() and "Reading the time-lapse" in pane.player.viewer.message
        assert pane.player.movie is None
        timer.start(50)
    assert done.args == [True] and reader_saw_tick == [True]
    assert pane.player.movie.n_frames == 12 and len(pane.player.movie.tracks) == len(rows)
    assert not pane.loading()


def test_following_a_frame_reads_its_sequence_once_and_shows_that_frame(qtbot, ctc):
    from gui.pages.track_player import TimelapsePane

    root, _rows = ctc
    pane = TimelapsePane()
    qtbot.addWidget(pane)
    pane.resize(800, 600)
    pane.show()
    with qtbot.waitSignal(pane.loaded, timeout=30000):
        assert pane.follow(root / "01" / "t007.tif")
    assert pane.player.viewer.frame == 7
    movie = pane.player.movie
    with qtbot.assertNotEmitted(pane.loaded, wait=200):
        pane.follow(root / "01" / "t002.tif")  # same sequence: not read again
    assert pane.player.movie is movie and pane.player.viewer.frame == 2


def test_a_newer_request_wins_over_a_slower_older_one(qtbot, ctc, tmp_path):
    import threading

    from builder.tracking.movie import movie_from_ctc
    from gui.pages.track_player import TimelapsePane

    root, _rows = ctc
    pane = TimelapsePane()
    qtbot.addWidget(pane)
    pane.show()
    release = threading.Event()

    def slow():
        release.wait(10)
        return movie_from_ctc(root, "01")

    pane._show(slow, "older")
    with qtbot.waitSignal(pane.loaded, timeout=30000) as done:
        pane.open_result(tmp_path)  # not a result: fails fast
    assert done.args == [False]
    release.set()
    qtbot.waitUntil(lambda: not pane.loader.busy(), timeout=30000)
    qtbot.wait(100)
    assert pane.player.movie is None  # the older, slower movie arrived last and was dropped

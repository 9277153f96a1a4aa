"""Results page of a tracking run: the lineage (clickable, selects the track in the player) and the CTC scores in
the headline table; the report's kymograph. A real tiny run is trained once for the module."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from builder.data.demo_timelapse import simulate_timelapse, write_ctc


@pytest.fixture(scope="module")
def tracking_run(tmp_path_factory) -> Path:
    from builder.workflow.train_job import train_recipe
    from tests.builder.workflow.train_fixtures import tiny_recipe

    tmp = tmp_path_factory.mktemp("trackrun")
    recipe = tiny_recipe(tmp, "tracking", epochs=1)
    (tmp / "recipe.yaml").write_text(recipe.read_text())
    return train_recipe(tmp / "recipe.yaml", runs_dir=tmp / "runs", export=False).run_dir


def _click_track(qtbot, view, label: int) -> None:
    track = next(t for t in view.tracks if t["label"] == label)
    x = (view.x_of(track["begin"]) + view.x_of(track["end"] + 1)) / 2
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPointF(x, view.y_of(label)).toPoint())


@pytest.mark.slow
def test_tracking_run_shows_its_lineage_and_ctc_scores(qtbot, tracking_run):
    from builder.tasks import get_task
    from gui.document import RecipeDocument
    from gui.pages.results import ResultsPage

    metrics = json.loads((tracking_run / "metrics.json").read_text())
    doc = RecipeDocument()
    doc.load(tracking_run.parent.parent / "recipe.yaml")
    page = ResultsPage(doc)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    page.refresh()
    assert page.current_run() == tracking_run

    # the headline table: every CTC score the run has, with its label (TRA, DET, SEG, LNK, division F1 ...)
    spec = get_task(metrics["task"])
    expected = [label for label, keys, _m, _h in spec.report_metrics if metrics["metrics"].get(keys[0]) is not None]
    shown = [page.table.item(r, 0).text() for r in range(page.table.rowCount())]
    assert shown == expected and {"TRA", "DET", "SEG", "LNK"} <= set(shown)

    # the lineage tab: the run's tracks, and the tracked test frames in the player
    tabs = page.tabs
    assert tabs.isTabVisible(tabs.indexOf(page.lineage))
    tabs.setCurrentWidget(page.lineage)
    view, player = page.lineage.view, page.lineage.player
    assert {t["label"] for t in view.tracks} == {t["label"] for t in metrics["tracks"]}
    assert player.movie.n_frames == len(metrics["per_image"])
    label = max(view.tracks, key=lambda t: t["end"] - t["begin"])["label"]
    _click_track(qtbot, view, label)
    assert player.viewer.selected == label and view.selected == label
    assert label in player.movie.centroids(player.viewer.frame)  # the player shows a frame with that cell


def test_other_runs_hide_the_lineage_tab(qtbot, tmp_path):
    from builder.tasks import all_tasks
    from gui.document import RecipeDocument
    from gui.pages.results import ResultsPage

    task = next(name for name, spec in all_tasks().items() if spec.report_metrics and not spec.time_lapse)
    run = tmp_path / "runs" / "r-1"
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text(f"cellwright: 1\nname: r\ntask: {task}\n", encoding="utf-8")
    (run / "metrics.json").write_text(json.dumps({"headline": {"name": "x", "value": 0.8}, "metrics": {}}))
    doc = RecipeDocument()
    doc.save(tmp_path / "recipe.yaml")
    page = ResultsPage(doc)
    qtbot.addWidget(page)
    page.refresh()
    assert not page.tabs.isTabVisible(page.tabs.indexOf(page.lineage))


def test_lineage_view_draws_forks_and_reports_the_clicked_track(qtbot, tmp_path):
    from gui.pages.lineage_view import LineageView

    images, labels, parents = simulate_timelapse(np.random.default_rng(3), (64, 64), 12)
    rows = write_ctc(tmp_path, images, labels, parents, pixel_size_um=0.5)
    view = LineageView()
    qtbot.addWidget(view)
    view.resize(600, 200)
    view.show()
    view.set_tracks([{"label": lab, "begin": b, "end": e, "parent": p} for lab, b, e, p in rows])
    daughters = [r for r in rows if r[3]]
    mother = daughters[0][3]
    # daughters sit on either side of their mother's row
    rows_of = [view.rows[d[0]] for d in daughters if d[3] == mother]
    assert min(rows_of) < view.rows[mother] < max(rows_of)
    with qtbot.waitSignal(view.track_clicked) as signal:
        _click_track(qtbot, view, daughters[0][0])
    assert signal.args[0] == daughters[0][0] and daughters[0][1] <= signal.args[1] <= daughters[0][2]
    # a click on empty space selects nothing
    with qtbot.assertNotEmitted(view.track_clicked):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(2, 2))


@pytest.mark.slow
def test_tracking_report_has_the_kymograph(tracking_run):
    from builder.report.build import build_report

    html = build_report(tracking_run, formats=("html",))[0].read_text()
    assert "Kymograph and track lengths" in html and "Lineage" in html and "Tracks over time" in html

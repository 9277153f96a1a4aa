"""Seen in the walkthrough screenshots: the Scores table needed a sideways scroll to read "What it means", and the
prediction viewer got less room than the file list beside it."""

from __future__ import annotations

import json

from builder.tasks import all_tasks


def test_scores_table_wraps_the_meanings_instead_of_scrolling_sideways(qtbot, tmp_path):
    from gui.document import RecipeDocument
    from gui.pages.results import ResultsPage

    task = next(name for name, spec in all_tasks().items() if spec.report_metrics and spec.trainable)
    spec = all_tasks()[task]
    label, keys, _meaning, _higher = max(spec.report_metrics, key=lambda metric: len(metric[2]))
    run = tmp_path / "runs" / "r-1"
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text(f"cellwright: 1\nname: r\ntask: {task}\n", encoding="utf-8")
    (run / "metrics.json").write_text(json.dumps({"headline": {"name": label, "value": 0.8}, "split": "test",
                                                  "n_images": 3, "metrics": {k: 0.8 for k in keys}}))
    doc = RecipeDocument()
    doc.save(tmp_path / "recipe.yaml")
    page = ResultsPage(doc)
    qtbot.addWidget(page)
    page.resize(480, 600)  # narrower than the longest meaning
    page.show()
    qtbot.waitExposed(page)
    page.refresh()
    table = page.table
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() == 0)
    last = table.columnCount() - 1
    assert table.columnViewportPosition(last) + table.columnWidth(last) <= table.viewport().width()
    one_line = table.fontMetrics().height()
    meaning = table.item(0, last).text()
    assert table.fontMetrics().horizontalAdvance(meaning) > table.columnWidth(last)  # the case of the screenshot
    assert table.rowHeight(0) > 1.5 * one_line  # wrapped onto more lines, all of it readable


def test_the_prediction_viewer_gets_the_room_not_the_file_list(qtbot):
    from gui.pages.predict_panel import PredictPanel

    panel = PredictPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.viewer.width() > panel.list.width()

"""The Scores tab shows the report's headline table (labels and meanings), the raw keys on request."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, Qt

from builder.tasks import all_tasks


def test_scores_tab_is_the_reports_headline_table(qtbot, tmp_path):
    from gui.document import RecipeDocument
    from gui.pages.results import ResultsPage

    task = next(name for name, spec in all_tasks().items() if spec.report_metrics and spec.trainable)
    spec = all_tasks()[task]
    label, keys, meaning, _higher = spec.report_metrics[0]
    run = tmp_path / "runs" / "r-1"
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text(f"cellwright: 1\nname: r\ntask: {task}\n", encoding="utf-8")
    (run / "metrics.json").write_text(json.dumps({"headline": {"name": label, "value": 0.8}, "split": "test",
                                                  "n_images": 3, "metrics": {keys[0]: 0.8, "loss_internal": 1.5}}))
    doc = RecipeDocument()
    doc.save(tmp_path / "recipe.yaml")
    page = ResultsPage(doc)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    table = page.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[0] == "Metric" and headers[-1] == "What it means"
    assert table.item(0, 0).text() == label and table.item(0, table.columnCount() - 1).text() == meaning
    assert table.rowCount() == 1  # no raw internal keys
    box = page.all_scores
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))
    assert {table.item(r, 0).text() for r in range(table.rowCount())} >= {keys[0], "loss_internal"}

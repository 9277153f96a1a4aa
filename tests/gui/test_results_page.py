"""Results page on a real tiny run: scores, report, prediction with overlays and export (real workers)."""

from __future__ import annotations

import json

import pytest


def _page(qtbot, tiny_project):
    from gui.document import RecipeDocument
    from gui.pages.results import ResultsPage

    doc = RecipeDocument()
    doc.load(tiny_project / "tiny.yaml")
    page = ResultsPage(doc)
    qtbot.addWidget(page)
    page.refresh()
    return page


@pytest.mark.slow
def test_results_predict_report_and_export(qtbot, trained_run, tiny_project):
    _training, run_dir = trained_run
    page = _page(qtbot, tiny_project)
    assert page.current_run() == run_dir
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert page.headline.text().startswith(f"{metrics['headline']['name']} = ")
    assert page.table.rowCount() >= 1  # the report's headline table
    assert page.table.horizontalHeaderItem(page.table.columnCount() - 1).text() == "What it means"
    page.all_scores.setChecked(True)
    assert page.table.rowCount() >= len(metrics["metrics"])
    assert page.export_button.isEnabled() and page.predict.choose_button.isEnabled()

    # three real workers at once (prediction, report, export) to keep the test short
    images = sorted((tiny_project / "data" / "images").glob("*.tif"))[:2]
    out = tiny_project / "predicted"
    assert page.predict.predict(images, out)
    assert page.write_report()
    dialog = page.export()
    assert dialog.command()[-2:] == ["--format", "bundle"]
    assert dialog.start()
    qtbot.waitUntil(lambda: not (page.predict.worker.running() or page.report_worker.running()
                                 or dialog.worker.running()), timeout=300000)
    qtbot.wait(50)

    # prediction: label images written, the first one shown with its objects overlaid
    assert (out / f"{images[0].stem}_labels.tif").exists(), page.predict.status.text()
    assert page.predict.list.count() == 2
    assert "objects" in page.predict.caption.text()
    assert page.predict.viewer.image is not None and page.predict.viewer.image.width >= 48
    assert [layer.name for layer in page.predict.viewer.layers][:1] == ["prediction"]

    # report: written by the real command and shown inside the app
    assert (run_dir / "report.html").exists(), page.report_view.toPlainText()
    assert page.tabs.currentWidget() is page.report_view
    assert "tiny" in page.report_view.toPlainText()
    assert page.report_button.isEnabled()

    # export: the bundle exists and its check is listed
    assert dialog.exit_code == 0, dialog.log.toPlainText()
    assert [r["format"] for r in dialog.results] == ["bundle"]
    assert (run_dir / "exports").is_dir() and any((run_dir / "exports").iterdir())
    assert "Export finished." in dialog.log.toPlainText()
    dialog.close()


def test_export_error_is_plain(qtbot, tmp_path):
    from gui.pages.export_dialog import ExportDialog

    run = tmp_path / "runs" / "empty-run"
    run.mkdir(parents=True)
    dialog = ExportDialog(run)
    qtbot.addWidget(dialog)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.exit_code is not None, timeout=30000)
    text = dialog.log.toPlainText()
    assert dialog.exit_code != 0 and "✕" in text and "Traceback" not in text

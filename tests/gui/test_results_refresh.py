"""The results page's run list follows the jobs the app runs: no Refresh click after a run ends (issue 20, 8)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FAKE = str(Path(__file__).with_name("fake_train_worker.py"))


def _window(qtbot, tmp_path, monkeypatch, *extra):
    """A main window on a saved recipe whose training runs the event-writing worker through the real runner."""
    monkeypatch.setenv("CELLWRIGHT_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    from gui.document import RecipeDocument
    from gui.main_window import MainWindow
    from gui.recipe_io import new_recipe

    doc = RecipeDocument(new_recipe("segmentation", name="cells"))
    doc.save(tmp_path / "cells.yaml")
    window = MainWindow(doc)
    qtbot.addWidget(window)
    run_dir = tmp_path / "runs" / "cells-20260101-120000"
    window.training.command = lambda recipe, resume: [sys.executable, FAKE, str(run_dir), "2", "--write-run", *extra]
    return window, run_dir


@pytest.mark.parametrize("extra", [(), ("--fail",)], ids=["finished", "failed"])
def test_run_list_refreshes_by_itself_when_the_job_ends(qtbot, tmp_path, monkeypatch, extra):
    window, run_dir = _window(qtbot, tmp_path, monkeypatch, *extra)
    window.show()
    window.sidebar.setCurrentRow(3)  # the user watches the training page, not the results page
    assert window.results.runs.count() == 0
    assert window.training.start(), window.training.status.text()
    qtbot.waitUntil(lambda: window.training.exit_code is not None or not window.training._watch.isActive(),
                    timeout=30000)
    names = [window.results.runs.item(row).text() for row in range(window.results.runs.count())]
    assert names == [run_dir.name]
    assert window.results.runs.currentItem().text() == run_dir.name
    assert "not evaluated yet" in window.results.summary.text()  # the page shows the run, not an old selection


def test_showing_the_results_page_lists_runs_made_outside_the_app(qtbot, tmp_path, monkeypatch):
    window, _ = _window(qtbot, tmp_path, monkeypatch)
    window.show()
    assert window.results.runs.count() == 0
    (tmp_path / "runs" / "cells-20260102-090000" / "checkpoints").mkdir(parents=True)  # e.g. `cellwright train`
    window.sidebar.setCurrentRow(4)
    assert [window.results.runs.item(r).text() for r in range(window.results.runs.count())] == [
        "cells-20260102-090000"]

"""The training page follows a detached worker process through its events file."""

from __future__ import annotations

import sys
from pathlib import Path

FAKE = str(Path(__file__).with_name("fake_train_worker.py"))


def _page(qtbot, doc, tmp_path, *extra):
    from gui.pages.training import TrainingPage

    doc.save(tmp_path / "recipe.yaml")
    run_dir = tmp_path / "runs" / "unet-test-1"
    page = TrainingPage(doc, command=lambda recipe, resume: [sys.executable, FAKE, str(run_dir), "4", *extra])
    qtbot.addWidget(page)
    return page, run_dir


def test_progress_events_arrive_from_worker(qtbot, doc, tmp_path):
    page, run_dir = _page(qtbot, doc, tmp_path)
    finished = []
    page.run_finished.connect(finished.append)
    assert page.start()
    qtbot.waitUntil(lambda: bool(finished), timeout=20000)
    assert finished == [str(run_dir)]
    names = [e["event"] for e in page.events]
    assert names[0] == "start" and names[-1] == "done" and names.count("epoch") == 4
    assert page.progress.value() == page.progress.maximum() == 4
    assert page.curves.series["val_loss"][-1] == (4.0, 0.3)
    assert "plain log line from the worker" in page.log.toPlainText()
    assert page.start_button.isEnabled() and not page.stop_button.isEnabled()
    # the job is remembered, so a new window finds the log again
    from gui import workers

    job = workers.load_job(tmp_path)
    assert job["recipe"] == str(tmp_path / "recipe.yaml") and Path(job["log"]).exists()


def test_worker_error_is_shown_without_traceback(qtbot, doc, tmp_path):
    page, _ = _page(qtbot, doc, tmp_path, "--fail")
    assert page.start()
    qtbot.waitUntil(lambda: any(e["event"] == "error" for e in page.events), timeout=20000)
    assert "Something the user can fix." in page.log.toPlainText()
    assert "fix: Lower it." in page.log.toPlainText()
    assert "Traceback" not in page.log.toPlainText()


def test_refuses_unsaved_untitled_recipe(qtbot, doc):
    from gui.pages.training import TrainingPage

    page = TrainingPage(doc, save_first=lambda: False)
    qtbot.addWidget(page)
    assert not page.start()
    assert "Save the recipe first" in page.status.text()

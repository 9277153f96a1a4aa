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
    qtbot.waitUntil(lambda: page.exit_code is not None, timeout=20000)
    assert page.exit_code == 2
    assert page.message.text() == "train.epochs: Something the user can fix.\nFix: Lower it."
    assert page.message.isVisibleTo(page)


def test_crashed_worker_says_stopped_unexpectedly(qtbot, doc, tmp_path):
    from gui.worker_messages import UNEXPECTED

    page, _ = _page(qtbot, doc, tmp_path, "--crash")
    assert page.start()
    qtbot.waitUntil(lambda: page.exit_code is not None, timeout=20000)
    assert page.exit_code == 1
    text = page.message.text()
    assert text.startswith(UNEXPECTED) and str(page.log_path) in text
    assert "Traceback" not in text and "Traceback" not in page.log.toPlainText()
    assert "technical details are in the log file" in page.log.toPlainText()
    assert "Traceback (most recent call last)" in page.log_path.read_text()  # kept for the bug report
    assert page.start_button.isEnabled()


def test_log_cleaner_folds_tracebacks():
    from gui.worker_messages import LogCleaner

    cleaner = LogCleaner("run.log")
    lines = ["epoch 1", "Traceback (most recent call last):", '  File "x.py", line 1, in <module>', "    boom()",
             "TypeError: bad", "", "This is a bug in Cellwright. Please report it with the text above.", "next"]
    shown = [text for text in map(cleaner.feed, lines) if text is not None]
    assert shown == ["epoch 1", "(An internal error happened; the technical details are in the log file run.log.)",
                     "This is a bug in Cellwright. Please report it with the log file run.log.", "next"]


def test_refuses_unsaved_untitled_recipe(qtbot, doc):
    from gui.pages.training import TrainingPage

    page = TrainingPage(doc, save_first=lambda: False)
    qtbot.addWidget(page)
    assert not page.start()
    assert "Save the recipe first" in page.status.text()


def test_resume_keeps_the_earlier_epochs_and_the_bar_moves_by_steps(qtbot, doc, tmp_path):
    import json

    go = tmp_path / "go"  # the worker says nothing until this exists
    page, run_dir = _page(qtbot, doc, tmp_path, "--from", "2", "--wait-for", str(go))  # continues after epoch 2
    run_dir.mkdir(parents=True)
    (run_dir / "history.json").write_text(json.dumps([{"epoch": 1, "loss": 0.9, "val_loss": 1.0},
                                                      {"epoch": 2, "loss": 0.7, "val_loss": 0.8}]))
    page.run_dir = str(run_dir)
    finished = []
    page.run_finished.connect(finished.append)
    assert page.start(resume=True)
    assert [x for x, _y in page.curves.series["loss"]] == [1.0, 2.0]  # shown before the worker says anything
    page.on_event({"event": "batch", "epoch": 3, "epochs": 6, "step": 5, "steps": 10})
    assert page.progress.maximum() == 60 and page.progress.value() == 25
    assert page.progress.format() == "epoch 3 of 6 · 50 %"
    go.touch()
    qtbot.waitUntil(lambda: bool(finished), timeout=20000)
    assert [x for x, _y in page.curves.series["loss"]] == [1.0, 2.0, 3.0, 4.0]
    assert page.curves.series["loss"][:2] == [(1.0, 0.9), (2.0, 0.7)]


def test_metrics_panel_does_not_wait_once_epochs_arrived(qtbot):
    from gui.pages.curves import Curves

    curves = Curves()
    qtbot.addWidget(curves)
    curves.add_epoch(1, {"loss": 0.5, "val_loss": 0.6})
    curves.redraw()
    texts = [t.get_text() for t in curves.metric_ax.texts]
    assert texts and "waiting" not in texts[0]


def test_a_resumed_runs_history_plots_metrics_not_epoch_times(qtbot):
    from gui.pages.curves import Curves

    curves = Curves()
    qtbot.addWidget(curves)
    shown = curves.load_history([{"epoch": 1, "loss": 0.9, "val_ap@0.5": 0.1, "learning_rate": 0.001, "time_s": 7.0},
                                 {"epoch": 2, "loss": 0.7, "val_ap@0.5": 0.2, "learning_rate": 0.0009, "time_s": 0.3}])
    assert shown == 2
    assert sorted(curves.series) == ["loss", "val_ap@0.5"]
    curves.add_epoch(2, {"loss": 0.65})  # epoch 2 trained again after the resume: replaced, not doubled
    assert curves.series["loss"] == [(1.0, 0.9), (2.0, 0.65)]


def test_evaluation_after_training_shows_image_i_of_n(qtbot, doc, tmp_path):
    page, _ = _page(qtbot, doc, tmp_path, "--evaluate", "4")
    seen: list[tuple[str, int, int]] = []
    page.progress.valueChanged.connect(
        lambda value: seen.append((page.progress.format(), value, page.progress.maximum())))
    finished = []
    page.run_finished.connect(finished.append)
    assert page.start()
    qtbot.waitUntil(lambda: bool(finished), timeout=30000)
    shown = [entry for entry in seen if entry[0].startswith("Evaluating")]
    assert shown == [(f"Evaluating: image {i} of 4", i, 4) for i in (1, 2, 3, 4)]  # determinate, step by step
    assert page.progress.maximum() == page.progress.value() == 4 and page.progress.format() == "epoch 4 of 4"
    assert "test AP@0.5 0.750" in page.status.text()


def test_threshold_tuning_steps_are_named_with_an_eta(qtbot):
    from gui.document import RecipeDocument
    from gui.pages.training import TrainingPage

    page = TrainingPage(RecipeDocument())
    qtbot.addWidget(page)
    tune = {"event": "batch", "job": "evaluate", "stage": "tune"}
    page.on_event({**tune, "unit": "image", "step": 1, "total": 5, "time": 100.0})
    assert page.progress.format() == "Tuning thresholds: validation image 1 of 5"
    page.on_event({**tune, "unit": "setting", "step": 1, "total": 40, "time": 200.0})
    page.on_event({**tune, "unit": "setting", "step": 7, "total": 40, "time": 212.0})
    assert page.progress.format() == "Tuning thresholds: setting 7 of 40" and page.progress.value() == 7
    assert page.eta.text() == "ETA 1 min 06 s"  # 2 s per setting, 33 settings left

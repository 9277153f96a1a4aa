"""Quitting while training runs asks first; the start page's recent list follows saves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from PySide6.QtWidgets import QMessageBox

from builder.tasks import DEFAULT_TASK


def _window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CELLWRIGHT_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.unsaved_answer = lambda: QMessageBox.StandardButton.Discard
    return window


def test_quit_with_training_running_asks_and_can_keep_or_stop_it(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    window.show()
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # stands in for a training
    try:
        window.training.pid = job.pid
        asked = []
        window.running_answer = lambda: asked.append(True) or QMessageBox.StandardButton.Cancel
        assert not window.close()
        assert asked and window.isVisible()
        window.running_answer = lambda: QMessageBox.StandardButton.Abort  # "Stop training and quit"
        assert window.close()
        assert job.wait(timeout=60) is not None
    finally:
        if job.poll() is None:
            os.kill(job.pid, signal.SIGKILL)
            job.wait()


def test_recent_recipes_refresh_after_save(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    window.new_recipe(DEFAULT_TASK, ask=False)
    path = tmp_path / "first.yaml"
    window.doc.path = path
    assert window.save()
    items = [window.start_page.recent.item(i).text() for i in range(window.start_page.recent.count())]
    assert items[0] == str(path)

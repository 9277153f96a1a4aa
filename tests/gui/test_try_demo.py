"""The start page's "Try it on demo data": trains the nuclei example (tiny here) and shows its results and report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest


def _window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CELLWRIGHT_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("CELLWRIGHT_HOME", str(tmp_path / "home"))
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    return window


def test_the_button_asks_for_the_demo(qtbot, tmp_path, monkeypatch):
    from gui.main_window import MainWindow

    asked: list[bool] = []
    monkeypatch.setattr(MainWindow, "try_demo", lambda self, tiny=False: asked.append(tiny) or True)
    window = _window(qtbot, tmp_path, monkeypatch)  # connects the button to the (recording) try_demo
    assert window.stack.currentWidget() is window.start_page
    with qtbot.waitSignal(window.start_page.demo_requested, timeout=1000):
        window.start_page.demo_button.click()
    assert asked == [False]  # the full demo, not the tiny test settings; no training starts in this test
    assert window.start_page.demo_button.text() == "Try it on demo data"


@pytest.mark.slow
def test_demo_trains_and_opens_the_results_with_the_report(qtbot, qapp, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    assert window.try_demo(tiny=True), window.training.status.text()
    assert window.doc.path == tmp_path / "home" / "demo-runs" / "demo-nuclei-tiny.yaml"
    assert window.stack.currentWidget() is window.training
    deadline = time.time() + 300
    while time.time() < deadline and window.stack.currentWidget() is not window.results:
        qapp.processEvents()
        time.sleep(0.05)
    assert window.stack.currentWidget() is window.results, window.training.log.toPlainText()[-3000:]
    run = window.results.current_run()
    assert run.name.startswith("demo-nuclei-instances-") and run.parent.parent == Path(window.doc.path).parent
    assert (run / "report.html").is_file()

"""The app keeps one prediction worker: the second prediction reuses it (one model load), a worker killed with
SIGKILL between predictions is started again (and the log says so), and changing the run or quitting stops it."""

from __future__ import annotations

import os
import signal
import sys

import pytest
import tifffile

from tests.builder.workflow.predict_helpers import (
    DISKS,
    disk_image,
    disk_labels,
    make_recipe,
    threshold_model,
    write_run,
    write_threshold_instance_run,
    write_tiff,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _wait_request(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.worker.running(), timeout=180000)
    qtbot.wait(20)


def _panel_with_run(qtbot, run, tmp_path):
    """A predict panel showing ``run``, and one disk image to predict."""
    from gui.pages.predict_panel import PredictPanel

    image = write_tiff(tmp_path / "in" / "a.tif", disk_image(disk_labels()))
    panel = PredictPanel()
    qtbot.addWidget(panel)
    panel.set_run(run)
    return panel, image


def test_worker_is_reused_restarted_after_sigkill_and_stopped_on_run_change(qtbot, tmp_path):
    panel, image = _panel_with_run(qtbot, write_threshold_instance_run(tmp_path / "run"), tmp_path)

    assert panel.predict([image], tmp_path / "out1")
    _wait_request(qtbot, panel)
    assert "1 image(s) predicted" in panel.status.text(), panel.status.text()
    pid = panel.worker.pid()
    assert pid and panel.worker.model_loads == 1

    assert panel.predict([image], tmp_path / "out2")  # same worker, model still loaded
    _wait_request(qtbot, panel)
    assert "1 image(s) predicted" in panel.status.text(), panel.status.text()
    assert panel.worker.pid() == pid and panel.worker.model_loads == 1 and panel.worker.starts == 1

    os.kill(pid, signal.SIGKILL)  # killed between two predictions
    qtbot.waitUntil(lambda: not panel.worker.alive(), timeout=30000)
    assert any("stopped unexpectedly" in note for note in panel.worker.log), panel.worker.log
    assert panel.predict([image], tmp_path / "out3")
    assert "had stopped and was started again" in panel.status.text()
    _wait_request(qtbot, panel)
    assert "1 image(s) predicted" in panel.status.text(), panel.status.text()
    assert "had stopped and was started again" in panel.status.text()
    assert panel.worker.starts == 2 and panel.worker.pid() not in (None, pid)
    assert any("had stopped" in note and "starting a new one" in note for note in panel.worker.log)
    assert tifffile.imread(tmp_path / "out3" / "a_labels.tif").max() == len(DISKS)

    new_pid = panel.worker.pid()
    panel.set_run(tmp_path / "other_run")  # another run: the worker and its model go
    assert not panel.worker.alive()
    with pytest.raises(ProcessLookupError):
        os.kill(new_pid, 0)


def test_a_request_that_fails_is_reported_and_the_worker_goes_on(qtbot, tmp_path):
    panel, image = _panel_with_run(qtbot, write_threshold_instance_run(tmp_path / "run"), tmp_path)
    panel.project.setCurrentIndex(0)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the output folder should be")
    assert panel.predict([image], blocked)
    _wait_request(qtbot, panel)
    assert "blocked" in panel.status.text() and "1 image(s) predicted" not in panel.status.text()
    pid = panel.worker.pid()
    assert pid is not None
    assert panel.predict([image], tmp_path / "out")
    _wait_request(qtbot, panel)
    assert "1 image(s) predicted" in panel.status.text(), panel.status.text()
    assert panel.worker.pid() == pid and panel.worker.model_loads == 1
    panel.worker.stop()
    assert not panel.worker.alive()


def test_closing_the_window_stops_the_prediction_worker(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setenv("CELLWRIGHT_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.unsaved_answer = lambda: QMessageBox.StandardButton.Discard
    worker = window.results.predict.worker
    # a model that is not there: the worker says so for the request (no TensorFlow needed) and keeps running
    assert worker.submit(tmp_path / "no_run", {"images": ["a.tif"], "out": str(tmp_path / "out")})
    qtbot.waitUntil(lambda: not worker.running(), timeout=120000)
    assert worker.alive() and worker.errors and "Not found" in worker.errors[-1]["what"], worker.errors
    pid = worker.pid()
    assert window.close()
    assert not worker.alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_first_prediction_loads_the_runs_onnx_copy_and_the_log_says_so(qtbot, tmp_path):
    from builder.workflow.onnx_cache import FRESH, ensure_copy

    model = threshold_model(3)
    run = write_run(tmp_path / "run", model, make_recipe("instance_segmentation"),
                    postprocess={"threshold": 0.5, "seed_threshold": 0.5, "min_size": 5})
    assert ensure_copy(run, model).status == FRESH  # as training leaves it
    panel, image = _panel_with_run(qtbot, run, tmp_path)
    assert panel.predict([image], tmp_path / "out")
    _wait_request(qtbot, panel)
    assert "1 image(s) predicted" in panel.status.text(), panel.status.text()
    loaded = [note for note in panel.worker.log if note.startswith("Model loaded")]
    assert len(loaded) == 1 and "ONNX Runtime" in loaded[0], panel.worker.log
    assert tifffile.imread(tmp_path / "out" / "a_labels.tif").max() == len(DISKS)
    panel.worker.stop()

"""The training page drives the real ``cellwright train RECIPE --events`` worker (tiny U-Net, 2 epochs)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_real_training_progress_and_run_folder(trained_run):
    page, run_dir = trained_run
    names = [e["event"] for e in page.events]
    assert "start" in names and names.count("epoch") == 2 and "batch" in names
    start = next(e for e in page.events if e["event"] == "start")
    assert start["run"] == str(run_dir) and run_dir.parent.name == "runs"
    assert (run_dir / "recipe.yaml").exists() and (run_dir / "history.csv").exists()
    # the bar counts steps within epochs: 2 epochs x 2 steps (TINY_RECIPE), all done
    assert page.progress.maximum() == 4 and page.progress.value() == 4
    # the evaluation after training came through as counted steps (shown as "Evaluating: image i of n")
    scored = [e for e in page.events if e["event"] == "batch" and e.get("job") == "evaluate"
              and e["stage"] == "evaluate"]
    assert scored and [e["step"] for e in scored] == list(range(1, scored[0]["total"] + 1))
    assert any(e.get("stage") == "tune" and e.get("unit") == "setting" for e in page.events)
    assert len(page.curves.series["loss"]) == 2 and len(page.curves.series["val_loss"]) == 2
    assert "Run folder" in page.log.toPlainText() and "Traceback" not in page.log.toPlainText()
    # how the worker ended is known from its exit file, not guessed from the events
    from gui.worker_messages import UNEXPECTED

    if page.exit_code == 0:
        assert page.status.text().startswith("Finished: 2 epochs") and page.message.isHidden()
    else:  # the engine crashed after training: a plain sentence with the log path, never a traceback
        assert UNEXPECTED in page.message.text() or page.errors
        assert "Traceback" not in page.message.text()


def test_resume_passes_the_run_folder(trained_run, tmp_path):
    from gui.pages.training import default_command, latest_run

    page, run_dir = trained_run
    argv = default_command(page.doc.path, str(run_dir))
    assert argv[-4:] == ["train", "--resume", str(run_dir), "--events"]
    assert latest_run(page.project_dir(), "tiny") == run_dir
    assert latest_run(tmp_path, "tiny") is None

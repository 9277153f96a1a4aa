"""The wizard's tracking card: CTC-layout folders and the demo time-lapse give valid recipes; the doctor reports
frames, tracks and divisions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from builder.data.demo_timelapse import simulate_timelapse, write_ctc
from builder.tasks import all_tasks
from gui import recipe_io
from gui.pages.wizard import NewRecipeWizard

TRACKING = next(name for name, spec in all_tasks().items() if spec.time_lapse)


@pytest.fixture
def ctc_folder(tmp_path: Path) -> tuple[Path, list[tuple[int, int, int, int]]]:
    root = tmp_path / "timelapse"
    images, labels, parents = simulate_timelapse(np.random.default_rng(3), (64, 64), 12)
    return root, write_ctc(root, images, labels, parents, pixel_size_um=0.5, seg_every=3)


def _wizard(qtbot) -> NewRecipeWizard:
    wizard = NewRecipeWizard(TRACKING)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    return wizard


def _finish(qtbot, wizard: NewRecipeWizard) -> dict:
    assert wizard.data_page.isComplete()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    data = wizard.recipe()
    assert [p for p in recipe_io.validate_data(data, "wizard") if p.severity == "error"] == []
    return data


def test_tracking_on_a_ctc_folder_reports_frames_tracks_divisions_and_gives_a_working_recipe(qtbot, ctc_folder):
    from builder.data.doctor import check_dataset
    from builder.data.layouts import discover
    from builder.recipe.schema import Recipe

    root, rows = ctc_folder
    divisions = sum(1 for p in {r[3] for r in rows if r[3]} if sum(r[3] == p for r in rows) == 2)
    assert divisions >= 1
    wizard = _wizard(qtbot)
    qtbot.keyClicks(wizard.folder, str(root))
    qtbot.waitUntil(lambda: wizard.data_page.report is not None, timeout=20000)
    text = wizard.findings.text()
    assert "Cell Tracking Challenge" in text
    assert f"12 frames, {len(rows)} tracks, {divisions} division(s)" in text
    assert "full segmentations on 4" in text  # SEG masks on frames 0, 3, 6, 9
    data = _finish(qtbot, wizard)
    assert data["task"] == TRACKING and data["data"]["layout"] == "ctc"
    recipe = Recipe.model_validate(data)
    dataset = discover(recipe, root)
    test = dataset.splits["test"]
    assert test and all(s.mask_path is not None and "man_track" in s.mask_path.name for s in test)
    assert not [p for p in check_dataset(recipe, root) if p.severity == "error"]


def test_tracking_on_the_demo_time_lapse_gives_a_working_recipe(qtbot, tmp_path, monkeypatch):
    from builder.data.doctor import check_dataset
    from builder.recipe.schema import Recipe

    monkeypatch.setenv("CELLWRIGHT_HOME", str(tmp_path / "home"))
    wizard = _wizard(qtbot)
    assert "timelapse" in wizard.findings.text()  # an empty folder field means the demo time-lapse
    data = _finish(qtbot, wizard)
    assert data["data"]["layout"] == "demo" and data["data"]["demo"] == "timelapse"
    findings = check_dataset(Recipe.model_validate(data), tmp_path)  # makes the demo data, then reads it as CTC
    assert not [p for p in findings if p.severity == "error"]
    summary = next(p.what for p in findings if p.what.startswith("Time-lapse 01:"))
    assert "division(s)" in summary and " 0 tracks" not in summary


def test_doctor_warns_about_frames_without_markers_and_a_missing_lineage(tmp_path, ctc_folder):
    from builder.data.ctc_summary import ctc_findings

    root, _rows = ctc_folder
    (root / "01_GT" / "TRA" / "man_track005.tif").unlink()
    findings = ctc_findings(root)
    warning = next(p for p in findings if p.severity == "warning")
    assert "1 frame(s) of sequence 01 have no tracking markers (frames 5)" in warning.what
    (root / "01_GT" / "TRA" / "man_track.txt").unlink()
    (only,) = ctc_findings(root)
    assert only.severity == "warning" and "no tracking ground truth" in only.what and "man_track.txt" in only.fix

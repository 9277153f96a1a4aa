"""The new-recipe wizard, driven with clicks and typing: every path ends in a valid recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from builder.tasks import all_tasks
from gui import recipe_io
from gui.pages.wizard import NewRecipeWizard, templates_for


def _discs(shape: tuple[int, int], centres: list[tuple[int, int]], radius: int) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = np.zeros(shape, np.uint16)
    for index, (cy, cx) in enumerate(centres, start=1):
        mask[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = index
    return mask


@pytest.fixture
def nuclei_folder(tmp_path: Path) -> Path:
    """Six 48x48 images, each with two nuclei of radius 5 (diameter ~10 px)."""
    root = tmp_path / "nuclei"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for index in range(6):
        mask = _discs((48, 48), [(12, 12 + index), (34, 30)], 5)
        tifffile.imwrite(root / "images" / f"n{index}.tif", (mask > 0).astype(np.uint16) * 900 + 100)
        tifffile.imwrite(root / "masks" / f"n{index}.tif", mask)
    return root


def _wizard(qtbot, task: str) -> NewRecipeWizard:
    wizard = NewRecipeWizard(task)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def _next(qtbot, wizard: NewRecipeWizard) -> None:
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)


def _errors(data: dict) -> list:
    return [p for p in recipe_io.validate_data(data, "wizard") if p.severity == "error"]


def test_default_template_is_the_tasks_and_each_template_is_explained(qtbot):
    for task in all_tasks():
        wizard = _wizard(qtbot, task)
        assert wizard.template.currentText() == all_tasks()[task].default_template
        for index in range(wizard.template.count()):
            wizard.template.setCurrentIndex(index)
            sentence = wizard.template_help.text()
            assert sentence and sentence.endswith(".") and sentence.count(". ") <= 1, sentence
        wizard.close()


@pytest.mark.parametrize("task", list(all_tasks()))
def test_every_task_and_template_gives_a_valid_recipe(qtbot, task, nuclei_folder):
    for template in templates_for(task):
        wizard = _wizard(qtbot, task)
        _next(qtbot, wizard)
        if not wizard.data_page.isComplete():  # no demo data for this task: a real folder, checked by the doctor
            qtbot.keyClicks(wizard.folder, str(nuclei_folder))
            qtbot.waitUntil(lambda w=wizard: w.data_page.report is not None, timeout=20000)
            if not wizard.data_page.isComplete():
                qtbot.mouseClick(wizard.data_page.anyway, Qt.MouseButton.LeftButton)
        assert wizard.data_page.isComplete()
        _next(qtbot, wizard)
        wizard.template.setCurrentText(template)
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
        data = wizard.recipe()
        assert data["model"]["template"] == template
        assert _errors(data) == [], (task, template, _errors(data))


def test_empty_field_means_demo_data_that_is_really_made(qtbot, tmp_path, monkeypatch):
    from builder.data.layouts import discover
    from builder.recipe.schema import Recipe

    monkeypatch.setenv("CELLWRIGHT_HOME", str(tmp_path / "home"))
    task = next(name for name, spec in all_tasks().items() if spec.mask_target and spec.trainable)
    wizard = _wizard(qtbot, task)
    _next(qtbot, wizard)
    assert "demo data" in wizard.data_page.subTitle()
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    data = wizard.recipe()
    assert data["data"]["layout"] == "demo"
    assert "root" not in data["data"]
    dataset = discover(Recipe.model_validate(data), tmp_path)
    assert len(list(dataset.samples())) > 0


@pytest.mark.parametrize("content", ["empty", "text files"])
def test_typed_folder_without_images_blocks_next_until_the_user_chooses_to_continue(qtbot, tmp_path, content):
    folder = tmp_path / "nothing"
    folder.mkdir()
    if content == "text files":
        (folder / "notes.txt").write_text("not an image")
        (folder / "more.csv").write_text("a,b\n")
    wizard = _wizard(qtbot, next(iter(all_tasks())))
    _next(qtbot, wizard)
    qtbot.keyClicks(wizard.folder, str(folder))
    qtbot.waitUntil(lambda: wizard.data_page.report is not None, timeout=20000)
    assert f"No images found in {folder}" in wizard.findings.text()
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert not next_button.isEnabled()
    assert wizard.data_page.anyway.isVisible()
    qtbot.mouseClick(wizard.data_page.anyway, Qt.MouseButton.LeftButton)
    assert next_button.isEnabled()


def test_doctor_names_the_chosen_task_and_measures_the_objects(qtbot, nuclei_folder):
    task = next(name for name, spec in all_tasks().items() if spec.mask_target and not spec.masks_are_classes
                and spec.trainable)
    wizard = _wizard(qtbot, task)
    _next(qtbot, wizard)
    qtbot.keyClicks(wizard.folder, str(nuclei_folder))
    qtbot.waitUntil(lambda: wizard.data_page.report is not None, timeout=20000)
    text = wizard.findings.text()
    assert all_tasks()[task].title.split(" (")[0].lower() in text
    assert "Objects per image: 2 on average" in text
    report = wizard.data_page.report
    assert report.median_diameter == pytest.approx(2 * np.sqrt(np.count_nonzero(_discs((48, 48), [(24, 24)], 5))
                                                              / np.pi))
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    _next(qtbot, wizard)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    data = wizard.recipe()
    assert Path(data["data"]["root"]) == nuclei_folder.resolve()
    assert _errors(data) == []

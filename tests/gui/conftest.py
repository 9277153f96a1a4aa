"""GUI tests run offscreen with real widgets (pytest-qt's ``qtbot``)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CELLWRIGHT_GUI_SETTINGS", "test")

import pytest


@pytest.fixture(autouse=True)
def _no_blocking_quit_questions(monkeypatch):
    """Closing a window in a test never waits on a modal question: unsaved changes are discarded and a training
    still running is stopped (tests that check the questions set ``window.running_answer`` / ``unsaved_answer``)."""
    from PySide6.QtWidgets import QMessageBox

    from gui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "_ask_unsaved", lambda self: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(MainWindow, "_ask_running", lambda self: QMessageBox.StandardButton.Abort)


@pytest.fixture
def doc(qtbot):
    from gui.document import RecipeDocument
    from gui.recipe_io import new_recipe

    return RecipeDocument(new_recipe("segmentation", name="unet-test"))


@pytest.fixture
def editor(qtbot, doc):
    from gui.pages.editor import EditorPage

    page = EditorPage(doc)
    qtbot.addWidget(page)
    page.resize(1300, 800)
    return page


TINY_RECIPE = """\
cellwright: 1
name: tiny
task: instance_segmentation
data: {layout: folders, root: data, images: images, masks: masks}
preprocess: {patch: {size: 32}}
model: {template: unet, params: {depth: 2, base_filters: 4}}
train: {epochs: 2, steps_per_epoch: 2, batch_size: 4}
report: {enabled: false}
export: {formats: []}
"""


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory):
    """A folder with 6 demo nuclei images (48 px) and the tiny recipe ``tiny.yaml``."""
    from builder.data.demo import make_demo

    folder = tmp_path_factory.mktemp("tiny-project")
    make_demo("nuclei", folder / "data", n_images=6, size=48)
    (folder / "tiny.yaml").write_text(TINY_RECIPE, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def trained_run(qapp, tiny_project):
    """Train the tiny recipe once through the training page (real ``cellwright train --events`` worker).

    Returns ``(page, run_dir)``; the page keeps the events it received. Shared by the slow GUI tests.
    """
    import time

    from gui.document import RecipeDocument
    from gui.pages.training import TrainingPage

    doc = RecipeDocument()
    doc.load(tiny_project / "tiny.yaml")
    page = TrainingPage(doc)
    finished: list[str] = []
    page.run_finished.connect(finished.append)
    assert page.start(), page.status.text()
    deadline = time.time() + 600  # generous: the CI machines and a loaded laptop train this tiny model slowly
    while time.time() < deadline and (page.running() or page._watch.isActive()):
        qapp.processEvents()
        time.sleep(0.05)
    qapp.processEvents()
    run_dir = Path(page.run_dir) if page.run_dir else None
    assert run_dir is not None and (run_dir / "checkpoints" / "best.keras").exists(), (
        page.status.text() + "\n" + page.message.text() + "\n" + page.log.toPlainText())
    return page, run_dir

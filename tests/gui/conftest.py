"""GUI tests run offscreen with real widgets (pytest-qt's ``qtbot``)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CELLWRIGHT_GUI_SETTINGS", "test")

import pytest


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

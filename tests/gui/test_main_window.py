"""Main window: pages, save/open, autosave, confirm on close."""

from __future__ import annotations

import yaml
from PySide6.QtWidgets import QMessageBox


def _window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CELLWRIGHT_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    return window


def test_pages_and_shortcuts(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    assert window.stack.count() == 5
    window.show_page(3)
    assert window.stack.currentWidget() is window.training
    shortcuts = {a.shortcut().toString() for a in window.findChildren(type(window.editor.actions_by_name["fit"]))}
    assert {"Ctrl+S", "Ctrl+Z", "Ctrl+1", "Ctrl+5", "F5", "Ctrl+L", "Ctrl+E"} <= shortcuts


def test_save_is_atomic_normal_recipe_and_close_confirms(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    window.new_recipe("segmentation", ask=False)
    assert window.doc.dirty
    window.doc.set_value(("train", "epochs"), 3)
    autosaved = window.doc.autosave()
    assert autosaved is not None and yaml.safe_load(autosaved.read_text())["train"]["epochs"] == 3
    path = tmp_path / "exp.yaml"
    window.doc.save(path)
    assert not window.doc.dirty and not autosaved.exists()
    assert not list(tmp_path.glob(".exp.yaml.*.tmp"))
    from builder.recipe import load_recipe

    assert load_recipe(path).train.epochs == 3
    window.doc.set_value(("train", "epochs"), 4)
    window.unsaved_answer = lambda: QMessageBox.StandardButton.Cancel
    assert not window.close()
    window.unsaved_answer = lambda: QMessageBox.StandardButton.Save
    assert window.close()
    assert load_recipe(path).train.epochs == 4


def test_open_example_recipe(qtbot, tmp_path, monkeypatch):
    from gui.pages.start import EXAMPLES_DIR

    window = _window(qtbot, tmp_path, monkeypatch)
    example = sorted(EXAMPLES_DIR.glob("*.yaml"))[0]
    assert window.open_recipe(str(example))
    assert window.doc.path == example and not window.doc.dirty
    assert window.stack.currentWidget() is window.editor
    assert str(example) in window.recent_files()

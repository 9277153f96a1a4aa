"""The status line reflects the graph's problems; Fit shows every block."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QToolButton

from builder.tasks import DEFAULT_TASK


def _window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CELLWRIGHT_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.unsaved_answer = lambda: QMessageBox.StandardButton.Discard
    window.new_recipe(DEFAULT_TASK, ask=False)
    window.show_page(1)
    window.show()
    qtbot.waitExposed(window)
    return window


def _toolbar_button(editor, text: str) -> QToolButton:
    return next(b for b in editor.findChildren(QToolButton) if b.text() == text and b.isVisible())


def test_unconnected_block_on_the_canvas_is_not_a_valid_recipe(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    assert window.status_line.text() == "Recipe is valid."
    window.editor.expand_template()
    assert window.status_line.text() == "Recipe is valid."
    window.editor.view.add_at_center("conv2d")  # dropped from the palette, never wired
    qtbot.waitUntil(lambda: window.status_line.text() != "Recipe is valid.")
    assert "problem" in window.status_line.text()
    window.doc.undo_stack.undo()
    qtbot.waitUntil(lambda: window.status_line.text() == "Recipe is valid.")


def test_fit_shows_every_block_of_a_big_graph(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch)
    window.doc.set_value(("model", "params"), {"depth": 4, "base_filters": 8})
    window.editor.expand_template()
    scene = window.editor.scene
    assert len(scene.nodes) >= 18
    view = window.editor.view
    qtbot.wait(20)
    view.zoom_by(3.0)
    qtbot.mouseClick(_toolbar_button(window.editor, "Fit"), Qt.MouseButton.LeftButton)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    outside = [name for name, item in scene.nodes.items() if not visible.contains(item.sceneBoundingRect())]
    assert outside == [], (view.zoom(), visible, scene.content_rect())

"""Expanded U-Net and FPN graphs are laid out compactly, so Fit shows every block at a readable zoom
(issue 20, point 5); "Tidy layout" does the same on demand and the positions are saved with the recipe."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMessageBox, QToolButton

#: Node titles (9 pt at 100 %) stay legible from about this zoom on.
READABLE_ZOOM = 0.4


def _window(qtbot, tmp_path, monkeypatch, template: str, params: dict):
    monkeypatch.setenv("CELLWRIGHT_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.unsaved_answer = lambda: QMessageBox.StandardButton.Discard
    window.new_recipe("instance_segmentation", ask=False)
    window.doc.set_value(("model",), {"template": template, "params": params})
    window.resize(1280, 800)
    window.show_page(1)
    window.show()
    qtbot.waitExposed(window)
    return window


def _click(qtbot, editor, text: str) -> None:
    button = next(b for b in editor.findChildren(QToolButton) if b.text() == text and b.isVisible())
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _outside(view, scene) -> list[str]:
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    return [name for name, item in scene.nodes.items() if not visible.contains(item.sceneBoundingRect())]


@pytest.mark.parametrize(("template", "params", "at_least"), [
    ("unet", {}, 18), ("unet", {"depth": 4, "base_filters": 8}, 23), ("fpn", {}, 20)])
def test_fit_shows_an_expanded_template_whole_and_readable(qtbot, tmp_path, monkeypatch, template, params,
                                                           at_least):
    window = _window(qtbot, tmp_path, monkeypatch, template, params)
    editor = window.editor
    editor.expand_template()
    assert len(editor.scene.nodes) >= at_least
    editor.view.zoom_by(3.0)  # the user zoomed in somewhere
    _click(qtbot, editor, "Fit")
    assert _outside(editor.view, editor.scene) == []
    assert editor.view.zoom() >= READABLE_ZOOM, (editor.view.zoom(), editor.scene.content_rect())
    boxes = [item.sceneBoundingRect() for item in editor.scene.nodes.values()]
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])  # no block hides another


def test_tidy_layout_puts_moved_blocks_back_undoably_and_positions_are_saved(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch, "unet", {"depth": 4, "base_filters": 8})
    editor, doc = window.editor, window.doc
    editor.expand_template()
    tidy = dict(doc.positions)
    doc.move_nodes({"head": (5000.0, 3000.0), "enc0": (-4000.0, 0.0)})  # dragged far away
    _click(qtbot, editor, "Fit")
    assert editor.view.zoom() < READABLE_ZOOM
    _click(qtbot, editor, "Tidy layout")
    assert doc.positions == tidy and editor.view.zoom() >= READABLE_ZOOM
    assert _outside(editor.view, editor.scene) == []
    doc.undo_stack.undo()
    assert doc.positions["head"] == (5000.0, 3000.0)
    doc.undo_stack.redo()
    path = tmp_path / "unet.yaml"
    doc.save(path)
    stored = json.loads(path.with_name(f".{path.name}.layout.json").read_text())
    assert {key: tuple(value) for key, value in stored.items() if not key.startswith("#")} == tidy
    from gui.document import RecipeDocument

    again = RecipeDocument()
    again.load(path)
    assert again.positions == tidy


def test_connections_back_to_the_left_run_through_the_gaps_not_across_blocks(qtbot, tmp_path, monkeypatch):
    window = _window(qtbot, tmp_path, monkeypatch, "unet", {})
    scene = window.editor.scene
    window.editor.expand_template()
    backward = [e for e in scene.edges if e.target.scenePos().x() < e.source.scenePos().x()]
    assert backward  # wrapped into bands: the next band starts on the left again
    for edge in backward:
        path = edge.path()
        points = [path.pointAtPercent(t / 200) for t in range(201)]
        crossed = {name for name, item in scene.nodes.items() if item not in (edge.source, edge.target)
                   and any(item.sceneBoundingRect().contains(QPointF(p)) for p in points)}
        assert crossed == set(), (edge.ref, edge.target.node_id)

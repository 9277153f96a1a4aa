"""Annotation tools on the real viewer with pytest-qt mouse and key events; files written and reloaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import QPoint, Qt

RECIPE = """\
cellwright: 1
name: annotate
task: instance_segmentation
data: {layout: folders, root: data, images: images, masks: masks}
model: {template: unet, params: {depth: 2, base_filters: 4}}
"""


@pytest.fixture
def page(qtbot, tmp_path):
    """The data page on a 20 x 20 image without a mask, Annotate on, shown at 10 screen pixels per pixel."""
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    (tmp_path / "data" / "images").mkdir(parents=True)
    pixels = (np.arange(400) % 255).astype(np.uint8).reshape(20, 20)
    tifffile.imwrite(tmp_path / "data" / "images" / "cells.tif", pixels)
    (tmp_path / "r.yaml").write_text(RECIPE)
    doc = RecipeDocument()
    doc.load(tmp_path / "r.yaml")
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.annotate.every_strokes, page.annotate.every_seconds = 100, 0
    page.resize(900, 700)
    page.show()
    qtbot.waitExposed(page)
    page.load_from_recipe()
    page.annotate.toggle.setChecked(True)
    viewer = page.viewer
    viewer.set_zoom(10)
    viewer.center = viewer.center.__class__(10, 10)
    viewer.setFocus()
    return page


def at(viewer, col: float, row: float) -> QPoint:
    """Widget position of the centre of pixel (row, col)."""
    from PySide6.QtCore import QPointF

    point = viewer.image_to_widget(QPointF(col + 0.5, row + 0.5))
    return QPoint(round(point.x()), round(point.y()))


def drag(qtbot, viewer, points, button=Qt.MouseButton.LeftButton):
    qtbot.mousePress(viewer, button, pos=at(viewer, *points[0]))
    for point in points[1:]:
        qtbot.mouseMove(viewer, at(viewer, *point))
    qtbot.mouseRelease(viewer, button, pos=at(viewer, *points[-1]))


def labels(page) -> np.ndarray:
    return page.annotate.session.labels


def test_brush_stroke_paints_a_new_object_and_the_count_shows_it(qtbot, page):
    bar = page.annotate.bar
    bar.size.setValue(3)  # radius 1.5: the pixels whose centre is within 1.5 px of the stroke
    drag(qtbot, page.viewer, [(2, 5), (8, 5), (15, 5)])
    expected = np.zeros((20, 20), np.int32)
    expected[4:7, 1:17] = 1
    np.testing.assert_array_equal(labels(page), expected)
    assert "1 objects" in bar.count.text()
    qtbot.keyClick(page.viewer, Qt.Key.Key_N)  # a new object for the next stroke
    drag(qtbot, page.viewer, [(2, 12), (4, 12)])
    assert set(np.unique(labels(page))) == {0, 1, 2} and "2 objects" in bar.count.text()


def test_eraser_fill_and_undo_redo_keys(qtbot, page):
    bar, viewer = page.annotate.bar, page.viewer
    bar.size.setValue(1)
    drag(qtbot, viewer, [(3, 3), (9, 3), (9, 9), (3, 9), (3, 3)])  # a square outline, object 1
    ring = labels(page).copy()
    bar.set_tool("fill")
    qtbot.mouseClick(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 6, 6))
    filled = labels(page)
    expected = ring.copy()
    expected[4:9, 4:9] = 1
    np.testing.assert_array_equal(filled, expected)
    qtbot.keyClick(viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(labels(page), ring)
    qtbot.keyClick(viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(labels(page), expected)
    qtbot.keyClick(viewer, Qt.Key.Key_E)
    assert bar.current_tool_name() == "eraser"
    drag(qtbot, viewer, [(6, 0), (6, 19)])  # cut the square in two: the pieces get their own ids
    assert set(np.unique(labels(page))) == {0, 1, 2}
    assert (labels(page)[:, 6] == 0).all()


def test_polygon_split_merge_and_delete(qtbot, page):
    bar, viewer = page.annotate.bar, page.viewer
    bar.set_tool("polygon")
    for corner in ((2, 2), (12, 2), (12, 8)):
        qtbot.mouseClick(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, *corner))
    qtbot.mouseDClick(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 2, 8))
    expected = np.zeros((20, 20), np.int32)
    expected[2:9, 2:13] = 1
    np.testing.assert_array_equal(labels(page), expected)

    bar.set_tool("split")
    drag(qtbot, viewer, [(7, 0), (7, 10), (7, 12)])
    cut = labels(page)
    assert set(np.unique(cut)) == {0, 1, 2} and ((cut > 0) == (expected > 0)).all()
    assert cut[5, 3] != cut[5, 11]
    assert "2 objects" in bar.count.text()
    assert page.annotate.session.active_id == 2 and "new piece is object 2" in bar.status.text()

    bar.set_tool("merge")
    qtbot.mouseClick(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 3, 5))
    qtbot.mouseClick(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 11, 5))
    np.testing.assert_array_equal(labels(page) > 0, expected > 0)
    assert len(np.unique(labels(page))) == 2

    qtbot.mouseClick(viewer, Qt.MouseButton.RightButton, pos=at(viewer, 5, 5))  # pick, then Delete
    qtbot.keyClick(viewer, Qt.Key.Key_Delete)
    assert not labels(page).any() and "0 objects" in bar.count.text()


def test_a_split_that_cuts_nothing_is_explained(qtbot, page):
    bar, viewer = page.annotate.bar, page.viewer
    bar.set_tool("split")
    drag(qtbot, viewer, [(1, 1), (5, 1)])
    assert "crosses no object" in bar.status.text()


def test_autosave_after_n_strokes_and_the_mask_reloads_identically(qtbot, page, tmp_path):
    page.annotate.session.policy.every_strokes = 2
    bar, viewer = page.annotate.bar, page.viewer
    drag(qtbot, viewer, [(2, 2), (6, 2)])
    mask = tmp_path / "data" / "masks" / "cells.tif"
    assert not mask.exists()
    qtbot.keyClick(viewer, Qt.Key.Key_N)
    drag(qtbot, viewer, [(2, 10), (6, 14)])
    assert mask.is_file() and "Saved" in bar.status.text()
    np.testing.assert_array_equal(tifffile.imread(mask), labels(page))
    painted = labels(page).copy()
    drag(qtbot, viewer, [(10, 10), (12, 12)])  # unsaved ...
    page.annotate.toggle.setChecked(False)  # ... until the session closes
    np.testing.assert_array_equal(tifffile.imread(mask), labels_from_file(mask))
    assert (labels_from_file(mask) != painted).any()

    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    doc = RecipeDocument()
    doc.load(tmp_path / "r.yaml")
    again = DataPage(doc)
    qtbot.addWidget(again)
    again.load_from_recipe()
    np.testing.assert_array_equal(again.viewer.current_layer.labels, labels_from_file(mask))


def labels_from_file(path: Path) -> np.ndarray:
    from builder.annotation.store import read_labels

    return read_labels(path)


def test_keys_reach_the_tools_inside_the_main_window(qtbot, tmp_path):
    """Ctrl+Z on the viewer undoes the stroke, not the recipe (the window's own Undo shortcut)."""
    from gui.main_window import MainWindow

    (tmp_path / "data" / "images").mkdir(parents=True)
    tifffile.imwrite(tmp_path / "data" / "images" / "a.tif", np.zeros((20, 20), np.uint8))
    (tmp_path / "r.yaml").write_text(RECIPE)
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_recipe(tmp_path / "r.yaml")
    window.show_page(2)
    with qtbot.waitActive(window):  # the window's shortcuts only fire in the active window
        window.show()
        window.activateWindow()
    window.doc.apply({**window.doc.data, "name": "renamed"}, "Rename")  # the window's Undo is enabled now
    page = window.data_page
    page.annotate.toggle.setChecked(True)
    viewer = page.viewer
    viewer.setFocus()
    drag(qtbot, viewer, [(5, 5), (10, 10)])
    assert page.annotate.session.labels.any()
    qtbot.keyClick(viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not page.annotate.session.labels.any()
    assert window.doc.data["name"] == "renamed"
    drag(qtbot, viewer, [(2, 2), (2, 8)])
    window.close()  # closing the app writes the unsaved stroke
    assert tifffile.imread(tmp_path / "data" / "masks" / "a.tif").any()


def test_a_lasso_draws_a_new_object_next_to_the_active_one(qtbot, page):
    bar, viewer = page.annotate.bar, page.viewer
    drag(qtbot, viewer, [(1, 1), (3, 1)])  # object 1 (active)
    bar.set_tool("polygon")
    drag(qtbot, viewer, [(10, 10), (16, 10), (16, 16), (10, 16)])  # one drag: a lasso, closed on release
    painted = labels(page)
    assert set(np.unique(painted)) == {0, 1, 2}
    assert (painted[10:17, 10:17] == 2).all() and painted[9, 9] == 0 and painted[17, 17] == 0
    assert page.annotate.session.active_id == 2


def test_photos_show_in_their_own_colours():
    from gui.viewer.render import ImageStack

    photo = np.zeros((2, 2, 3), np.uint8)
    photo[0, 0] = (200, 30, 10)
    stack = ImageStack(photo, "YXC", ["red", "green", "blue"])
    assert stack.render(0, 2, 0, 2)[0, 0].tolist() == [200, 30, 10]
    fluorescence = ImageStack(photo, "YXC", ["dapi", "gfp", "cy5"])
    assert fluorescence.render(0, 2, 0, 2)[0, 0].tolist() != [200, 30, 10]
    assert ImageStack(photo, "YXC", ["one name"]).render(0, 2, 0, 2).shape == (2, 2, 3)  # fewer names than channels


def test_images_without_a_mask_are_listed_to_annotate_and_the_timer_saves(qtbot, tmp_path):
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    for folder in ("images", "masks"):
        (tmp_path / "data" / folder).mkdir(parents=True)
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(tmp_path / "data" / "images" / name, np.zeros((20, 20), np.uint8))
    tifffile.imwrite(tmp_path / "data" / "masks" / "a.tif", np.ones((20, 20), np.uint16))
    (tmp_path / "r.yaml").write_text(RECIPE)
    doc = RecipeDocument()
    doc.load(tmp_path / "r.yaml")
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.annotate.every_strokes, page.annotate.every_seconds = 100, 0.2
    page.resize(900, 700)
    page.show()
    qtbot.waitExposed(page)
    page.load_from_recipe()
    names = [page.files.item(i).text() for i in range(page.files.count())]
    assert "unlabelled: images/b.tif" in names
    page.annotate.toggle.setChecked(True)
    page.files.setCurrentRow(names.index("unlabelled: images/b.tif"))
    page.viewer.set_zoom(10)
    drag(qtbot, page.viewer, [(5, 5), (9, 5)])
    mask = tmp_path / "data" / "masks" / "b.tif"
    qtbot.waitUntil(mask.exists, timeout=10000)  # one stroke, far below 100: the timer saved it
    np.testing.assert_array_equal(tifffile.imread(mask), labels(page))
    page.annotate.toggle.setChecked(False)
    assert not any(page.files.item(i).text().startswith("unlabelled") for i in range(page.files.count()))


def test_a_time_lapse_is_not_painted_over(qtbot, tmp_path):
    """A stack would lose its other frames if a 2-D mask were saved over it: the page says so and writes nothing."""
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    (tmp_path / "data" / "images").mkdir(parents=True)
    tifffile.imwrite(tmp_path / "data" / "images" / "movie.tif", np.zeros((3, 16, 16), np.uint8),
                     imagej=True, metadata={"axes": "TYX"})
    (tmp_path / "r.yaml").write_text(RECIPE)
    doc = RecipeDocument()
    doc.load(tmp_path / "r.yaml")
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.load_from_recipe()
    page.annotate.toggle.setChecked(True)
    assert page.annotate.session is None and "3 time points" in page.annotate.note.text()


def test_leaving_the_page_saves_the_last_edits(qtbot, page, tmp_path):
    drag(qtbot, page.viewer, [(2, 2), (6, 2)])  # 1 edit: far below the autosave count, no timer
    mask = tmp_path / "data" / "masks" / "cells.tif"
    assert not mask.exists()
    page.hide()
    np.testing.assert_array_equal(tifffile.imread(mask), labels(page))


def test_a_save_during_a_stroke_writes_the_last_finished_edit(qtbot, page, tmp_path):
    viewer, session = page.viewer, page.annotate.session
    drag(qtbot, viewer, [(2, 2), (6, 2)])
    finished = labels(page).copy()
    qtbot.mousePress(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 2, 12))
    qtbot.mouseMove(viewer, at(viewer, 8, 12))
    assert labels(page)[12, 5] == 1  # the stroke under way shows ...
    session.save()  # ... but the timer's save (here: now) writes only finished edits
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "data" / "masks" / "cells.tif"), finished)
    qtbot.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 8, 12))
    session.save()
    assert tifffile.imread(tmp_path / "data" / "masks" / "cells.tif")[12, 5] == 1


def test_a_stroke_apart_from_the_active_object_becomes_an_object_of_its_own(qtbot, page):
    viewer = page.viewer
    page.annotate.bar.size.setValue(1)
    drag(qtbot, viewer, [(2, 2), (10, 2)])  # object 1, 9 pixels
    drag(qtbot, viewer, [(2, 15), (5, 15)])  # still object 1 active, but not touching it
    painted = labels(page)
    assert set(np.unique(painted)) == {0, 1, 2}
    assert (painted[2, 2:11] == 1).all() and (painted[15, 2:6] == 2).all()
    assert "2 objects" in page.annotate.bar.count.text()


def test_switching_images_keeps_each_ones_undo_and_the_mask_keeps_the_pixel_size(qtbot, tmp_path):
    """Paint a.tif, go to b.tif and back: Ctrl+Z still undoes a.tif's stroke. The mask written records the
    image's pixel size (0.5 µm), so Fiji and the engine see the same scale."""
    from builder.data.readers import read_pixel_size
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    (tmp_path / "data" / "images").mkdir(parents=True)
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(tmp_path / "data" / "images" / name, np.zeros((20, 20), np.uint8), imagej=True,
                         resolution=(2.0, 2.0), metadata={"unit": "um", "axes": "YX"})
    (tmp_path / "r.yaml").write_text(RECIPE)
    doc = RecipeDocument()
    doc.load(tmp_path / "r.yaml")
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.annotate.every_strokes, page.annotate.every_seconds = 100, 0
    page.resize(900, 700)
    page.show()
    qtbot.waitExposed(page)
    page.load_from_recipe()
    names = [page.files.item(i).text() for i in range(page.files.count())]
    page.annotate.toggle.setChecked(True)
    page.files.setCurrentRow(next(i for i, n in enumerate(names) if n.endswith("a.tif")))
    page.viewer.set_zoom(10)
    page.viewer.setFocus()
    drag(qtbot, page.viewer, [(5, 5), (9, 5)])
    painted = labels(page).copy()
    assert painted.any()
    page.files.setCurrentRow(next(i for i, n in enumerate(names) if n.endswith("b.tif")))  # saves a's mask
    mask = tmp_path / "data" / "masks" / "a.tif"
    assert read_pixel_size(mask) == pytest.approx(0.5)
    assert not page.annotate.session.history.can_undo  # b has its own (empty) history
    page.files.setCurrentRow(next(i for i, n in enumerate(names) if n.endswith("a.tif")))
    np.testing.assert_array_equal(labels(page), painted)
    page.viewer.setFocus()
    qtbot.keyClick(page.viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not labels(page).any()  # a's stroke undone after coming back

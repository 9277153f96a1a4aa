"""Class assignment with the number keys: images into class folders, a manifest's label column, cell crops."""

from __future__ import annotations

import numpy as np
import tifffile
from PySide6.QtCore import Qt


def _page(qtbot, recipe):
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    doc = RecipeDocument()
    doc.load(recipe)
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.resize(900, 700)
    page.show()
    qtbot.waitExposed(page)
    page.load_from_recipe()
    return page


def test_number_keys_move_images_into_class_folders(qtbot, tmp_path):
    data = tmp_path / "data"
    (data / "rbc").mkdir(parents=True)
    tifffile.imwrite(data / "rbc" / "known.tif", np.zeros((8, 8), np.uint8))
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(data / name, np.full((8, 8), 9, np.uint8))
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: c\ntask: classification\n"
                                     "data: {layout: class_folders, root: data, classes: [rbc, wbc, platelets]}\n")
    page = _page(qtbot, tmp_path / "r.yaml")
    page.annotate.toggle.setChecked(True)
    panel = page.annotate.classify
    viewer = page.viewer
    assert [item.name for item in panel.items] == ["a.tif", "b.tif", "known.tif"]
    assert panel.counts.text() == "rbc: 1 · wbc: 0 · platelets: 0 · unlabelled: 2"
    qtbot.keyClick(viewer, Qt.Key.Key_2)
    assert (data / "wbc" / "a.tif").is_file() and not (data / "a.tif").exists()
    assert panel.index == 1 and "b.tif" in panel.title.text()
    qtbot.keyClick(viewer, Qt.Key.Key_3)
    assert (data / "platelets" / "b.tif").is_file()
    assert panel.counts.text() == "rbc: 1 · wbc: 1 · platelets: 1 · unlabelled: 0"
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert panel.index == 0 and "class: <b>wbc" in panel.title.text()
    qtbot.keyClick(viewer, Qt.Key.Key_1)  # change one's mind: the file moves on
    assert (data / "rbc" / "a.tif").is_file() and not (data / "wbc" / "a.tif").exists()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert panel.index == 2
    assert viewer.zoom > 0  # '1' gave a class above; it did not zoom to 1:1 (the viewer's own key)


def test_the_file_list_follows_the_image_being_classified(qtbot, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a.tif", "b.tif", "c.tif"):
        tifffile.imwrite(data / name, np.full((8, 8), 9, np.uint8))
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: c\ntask: classification\n"
                                     "data: {layout: class_folders, root: data, classes: [rbc, wbc]}\n")
    page = _page(qtbot, tmp_path / "r.yaml")
    page.annotate.toggle.setChecked(True)
    qtbot.keyClick(page.viewer, Qt.Key.Key_Right)
    qtbot.keyClick(page.viewer, Qt.Key.Key_Right)
    assert page.annotate.classify.index == 2
    assert page.files.currentItem() is not None and page.files.currentItem().text().endswith("c.tif")
    assert page.info.text() == "Classifying c.tif"
    qtbot.keyClick(page.viewer, Qt.Key.Key_Left)
    assert page.files.currentItem().text().endswith("b.tif")


def test_number_keys_fill_the_manifest_label_column(qtbot, tmp_path):
    data = tmp_path / "data"
    (data / "img").mkdir(parents=True)
    for name in ("x.tif", "y.tif"):
        tifffile.imwrite(data / "img" / name, np.zeros((8, 8), np.uint8))
    (data / "labels.csv").write_text("path,label\nimg/x.tif,\n")  # y.tif is new: not listed yet
    (data / "other").mkdir()
    tifffile.imwrite(data / "other" / "not_in_the_set.tif", np.zeros((8, 8), np.uint8))
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: c\ntask: classification\n"
                                     "data: {layout: manifest, root: data, manifest: labels.csv, classes: [a, b]}\n")
    page = _page(qtbot, tmp_path / "r.yaml")
    page.annotate.toggle.setChecked(True)
    assert [item.name for item in page.annotate.classify.items] == ["x.tif", "y.tif"]
    qtbot.keyClick(page.viewer, Qt.Key.Key_2)
    qtbot.keyClick(page.viewer, Qt.Key.Key_1)
    assert (data / "labels.csv").read_text() == "path,label\nimg/x.tif,b\nimg/y.tif,a\n"
    assert page.annotate.classify.counts.text() == "a: 1 · b: 1 · unlabelled: 0"


def test_cells_of_a_mask_get_classes_as_crops(qtbot, tmp_path):
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    pixels = np.arange(30 * 30, dtype=np.uint16).reshape(30, 30)
    mask = np.zeros((30, 30), np.uint16)
    mask[2:8, 2:8] = 1
    mask[15:25, 12:20] = 2
    tifffile.imwrite(data / "images" / "s.tif", pixels)
    tifffile.imwrite(data / "masks" / "s.tif", mask)
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: c\ntask: instance_segmentation\n"
                                     "data: {layout: folders, root: data, images: images, masks: masks}\n")
    page = _page(qtbot, tmp_path / "r.yaml")
    page.annotate.toggle.setChecked(True)
    page.annotate.class_names.setText("round, long")
    page.annotate.cells.click()
    panel = page.annotate.classify
    assert [item.name for item in panel.items] == ["cell 1", "cell 2"]
    assert page.viewer.image.height == 14  # the crop of cell 1: rows 2..7 plus a 6 px margin (clipped at 0)
    qtbot.keyClick(page.viewer, Qt.Key.Key_1)
    qtbot.keyClick(page.viewer, Qt.Key.Key_2)
    crop = data / "cell_classes" / "long" / "s_cell2.tif"
    np.testing.assert_array_equal(tifffile.imread(crop), pixels[9:30, 6:26])
    assert (data / "cell_classes" / "round" / "s_cell1.tif").is_file()
    assert panel.counts.text() == "round: 1 · long: 1 · unlabelled: 0"

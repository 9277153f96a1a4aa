"""Data page: split/class counts and the augmentation preview from the real worker."""

from __future__ import annotations

import pytest


def _page(qtbot, path):
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    doc = RecipeDocument()
    doc.load(path)
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.load_from_recipe()
    return page


def _cells(page):
    table = page.class_table
    return {table.item(r, 0).text(): [table.item(r, c).text() for c in range(1, table.columnCount())]
            for r in range(table.rowCount())}


def test_class_counts_per_split(qtbot, tiny_project):
    page = _page(qtbot, tiny_project / "tiny.yaml")
    assert page.files.count() == 6
    cells = _cells(page)
    assert cells["images"][-1] == "6"
    assert sum(int(v) for v in cells["images"][:3]) == 6
    assert int(cells["objects (cells)"][-1]) > 6  # every demo image holds several nuclei


def test_class_counts_explain_a_broken_recipe(qtbot, tmp_path):
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: x\ntask: segmentation\n"
                                     "data: {layout: folders, root: nowhere}\n")
    page = _page(qtbot, tmp_path / "r.yaml")
    assert page.update_class_counts() == 0
    assert page.class_note.text().startswith("Cannot count the data yet")


@pytest.mark.slow
def test_augmentation_preview_shows_the_grid(qtbot, tiny_project):
    page = _page(qtbot, tiny_project / "tiny.yaml")
    preview = page.augment
    preview.seed.setValue(3)
    assert preview.start()
    qtbot.waitUntil(lambda: preview.button.isEnabled(), timeout=60000)
    assert preview.png is not None and preview.png.exists(), preview.status.text()
    pixmap = preview.image.pixmap()
    assert not pixmap.isNull() and pixmap.width() > 32


def test_augmentation_preview_error_is_plain(qtbot, tmp_path):
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: x\ntask: instance_segmentation\n"
                                     "data: {layout: folders, root: nowhere, images: images, masks: masks}\n")
    page = _page(qtbot, tmp_path / "r.yaml")
    assert page.augment.start()
    qtbot.waitUntil(lambda: page.augment.button.isEnabled(), timeout=60000)
    text = page.augment.status.text()
    assert "nowhere" in text and "Traceback" not in text
    assert page.augment.image.pixmap().isNull()


def test_opening_another_recipe_clears_the_previous_image(qtbot, tiny_project, tmp_path):
    page = _page(qtbot, tiny_project / "tiny.yaml")
    assert page.viewer.image is not None and [layer.name for layer in page.viewer.layers] == ["mask"]
    other = tmp_path / "other.yaml"
    other.write_text("cellwright: 1\nname: x\ntask: segmentation\ndata: {layout: folders, root: nowhere, "
                     "masks: masks}\n")
    page.doc.load(other)  # the path change reloads the page, as File > Open does
    assert page.files.count() == 0
    assert page.viewer.image is None and page.viewer.layers == []
    assert "nowhere" in page.counts.text() and "0 images" not in page.counts.text()


def test_demo_layout_can_be_browsed_and_matches_the_split_table(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CELLWRIGHT_HOME", str(tmp_path / "home"))
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "recipes" / "examples" / "nuclei_instances.yaml"
    page = _page(qtbot, example)
    cells = _cells(page)
    assert page.files.count() == int(cells["images"][-1]) > 0
    assert page.viewer.image is not None and page.viewer.layers
    assert page.counts.text().startswith(f"{page.files.count()} images")


def test_partial_mask_count_is_worded_plainly(tmp_path):
    import numpy as np
    import tifffile

    from gui.pages.data_stats import MAX_MASKS, class_counts

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for index in range(MAX_MASKS + 5):
        mask = np.zeros((16, 16), np.uint16)
        mask[2:6, 2:6] = 1
        tifffile.imwrite(tmp_path / "images" / f"i{index}.tif", mask * 50)
        tifffile.imwrite(tmp_path / "masks" / f"i{index}.tif", mask)
    data = {"cellwright": 1, "name": "x", "task": "instance_segmentation",
            "data": {"layout": "folders", "root": str(tmp_path), "masks": "masks"}}
    _header, _rows, note = class_counts(data, None)
    assert "th mask" not in note and f"of {MAX_MASKS + 5} masks (one in 2)" in note

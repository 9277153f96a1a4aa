"""Annotation status on the data page without a model: the marks in the file list and "Mark checked"."""

from __future__ import annotations

import csv

import numpy as np
import tifffile
from PySide6.QtCore import Qt

from builder.annotation.checked import mark
from tests.gui.test_annotation_classes import _page


def _status(root) -> dict[str, str]:
    with (root / "annotation_status.csv").open() as handle:
        return {row["image"]: row["status"] for row in csv.DictReader(handle)}


def test_marks_show_each_status_and_mark_checked_moves_a_proposal_into_its_split(qtbot, tmp_path):
    data = tmp_path / "data"
    for folder in ("images", "masks"):
        (data / folder).mkdir(parents=True)
    for i, name in enumerate(("a.tif", "b.tif", "c.tif", "d.tif")):
        tifffile.imwrite(data / "images" / name, np.full((12, 12), 10 * i, np.uint8))
        tifffile.imwrite(data / "masks" / name, np.eye(12, dtype=np.uint16) * (i + 1))
    mark(data, ["b.tif"], "proposed", by="run-1")
    mark(data, ["c.tif"], "guard")
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: s\ntask: instance_segmentation\n"
                                     "data: {layout: folders, root: data, images: images, masks: masks}\n")
    page = _page(qtbot, tmp_path / "r.yaml")
    page.annotate.toggle.setChecked(True)
    tips = {page.files.item(i).text(): page.files.item(i).toolTip() for i in range(page.files.count())}
    assert tips["proposed: images/b.tif"].startswith("proposed (by run-1")
    assert next(t for n, t in tips.items() if n.endswith("c.tif")).startswith("guard")
    assert next(t for n, t in tips.items() if n.endswith("a.tif")) == ""
    page.files.setCurrentRow(list(tips).index("proposed: images/b.tif"))
    page.annotate.loop.check.click()
    assert _status(data)["b.tif"] == "checked"
    current = page.files.currentItem()
    assert current.text().endswith("images/b.tif") and not current.text().startswith("proposed")
    assert current.toolTip().startswith("checked (by user")


def test_mark_checked_while_classifying_marks_the_image_on_screen(qtbot, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(data / name, np.full((8, 8), 9, np.uint8))
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: c\ntask: classification\n"
                                     "data: {layout: class_folders, root: data, classes: [rbc, wbc]}\n")
    page = _page(qtbot, tmp_path / "r.yaml")
    page.annotate.toggle.setChecked(True)
    assert page.annotate.loop.propose.text() == "Propose classes with model…"
    qtbot.keyClick(page.viewer, Qt.Key.Key_2)  # a.tif -> wbc; b.tif is shown now
    assert page.annotate.classify.items[page.annotate.classify.index].name == "b.tif"
    page.annotate.loop.check.click()
    assert _status(data) == {"b.tif": "checked"}

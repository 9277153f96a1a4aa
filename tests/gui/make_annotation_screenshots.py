"""Screenshots of the annotation tools in use (run by hand under Xvfb; a few seconds, no training).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tests/gui/make_annotation_screenshots.py OUT_DIR

Uses ``../shared/realdata``: the DSB 2018 nuclei image (a brush stroke, a polygon being drawn, a split, a
merge) and BCCD blood-cell crops (number-key classes with the class counts).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).parent))
from make_screenshots import settle

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "screens")


def at(viewer, col: float, row: float) -> QPoint:
    point = viewer.image_to_widget(QPointF(col + 0.5, row + 0.5))
    return QPoint(round(point.x()), round(point.y()))


def drag(viewer, points) -> None:
    QTest.mousePress(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, *points[0]))
    for point in points[1:]:
        QTest.mouseMove(viewer, at(viewer, *point))
    QTest.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, *points[-1]))


def touching_pair(labels: np.ndarray) -> tuple[int, int]:
    """Two different objects that touch (horizontally), the pair with the longest shared border."""
    left, right = labels[:, :-1], labels[:, 1:]
    both = (left > 0) & (right > 0) & (left != right)
    pairs, counts = np.unique(np.stack([left[both], right[both]], 1), axis=0, return_counts=True)
    a, b = pairs[np.argmax(counts)]
    return int(a), int(b)


def centre(labels: np.ndarray, object_id: int) -> tuple[float, float]:
    rows, cols = np.nonzero(labels == object_id)
    return float(cols.mean()), float(rows.mean())


def segmentation_shots(app, work: Path) -> None:
    from gui.main_window import MainWindow

    data = work / "nuclei" / "data"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    shutil.copy(REAL / "dsb2018_one_image" / "img2d.tif", data / "images" / "dsb.tif")
    shutil.copy(REAL / "dsb2018_one_image" / "mask2d.tif", data / "masks" / "dsb.tif")
    recipe = work / "nuclei" / "nuclei.yaml"
    recipe.write_text("cellwright: 1\nname: nuclei\ntask: instance_segmentation\n"
                      "data: {layout: folders, root: data, images: images, masks: masks}\n"
                      "model: {template: unet, params: {depth: 2, base_filters: 4}}\n")
    window = MainWindow()
    window.resize(1500, 950)
    window.show()
    window.open_recipe(str(recipe))
    window.show_page(2)
    page = window.data_page
    page.annotate.toggle.setChecked(True)
    settle(app)
    viewer, session, bar = page.viewer, page.annotate.session, page.annotate.bar
    labels = session.labels.copy()
    a, b = touching_pair(labels)
    cx, cy = centre(labels, a)
    viewer.set_zoom(4)
    viewer.center = QPointF(cx, cy)
    viewer.setFocus()
    settle(app)
    window.grab().save(str(OUT / "annotate-0-opened.png"))

    # a new object painted with the brush in an empty spot near the pair
    empty = np.argwhere(labels[int(cy) - 40:int(cy) + 40, int(cx) - 60:int(cx) + 60] == 0)
    r0, c0 = empty[len(empty) // 3] + [int(cy) - 40, int(cx) - 60]
    QTest.keyClick(viewer, Qt.Key.Key_N)
    bar.size.setValue(10)
    drag(viewer, [(c0, r0), (c0 + 6, r0 + 3), (c0 + 10, r0 + 8)])
    QTest.mouseMove(viewer, at(viewer, c0 + 14, r0 + 8))
    settle(app)
    window.grab().save(str(OUT / "annotate-1-brush.png"))

    # split the first object of the pair with a vertical line through its centre
    bar.set_tool("split")
    rows = np.nonzero(labels == a)[0]
    drag(viewer, [(cx, rows.min() - 3), (cx, cy), (cx, rows.max() + 3)])
    settle(app)
    window.grab().save(str(OUT / "annotate-2-split.png"))

    # merge the two touching objects back into one
    bar.set_tool("merge")
    for object_id in (a, b):
        x, y = centre(session.labels, object_id)
        QTest.mouseClick(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, x, y))
    settle(app)
    window.grab().save(str(OUT / "annotate-3-merge.png"))

    # a polygon being drawn (corners so far, the guide line to the cursor)
    bar.set_tool("polygon")
    for dx, dy in ((-30, -25), (-5, -32), (10, -20)):
        QTest.mouseClick(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, cx + dx, cy + dy))
    QTest.mouseMove(viewer, at(viewer, cx - 20, cy - 8))
    settle(app)
    window.grab().save(str(OUT / "annotate-4-polygon.png"))
    session.save()
    window.close()


def bccd_crops(root: Path, n_images: int = 3) -> None:
    """Unsorted cell crops (PNG) from the first BCCD images' boxes, at ``root``."""
    from PIL import Image

    bccd = REAL / "bccd" / "BCCD"
    for xml in sorted((bccd / "Annotations").glob("*.xml"))[:n_images]:
        tree = ET.parse(xml)
        image = Image.open(bccd / "JPEGImages" / tree.findtext("filename"))
        for i, obj in enumerate(tree.findall("object")):
            box = [int(float(obj.findtext(f"bndbox/{k}"))) for k in ("xmin", "ymin", "xmax", "ymax")]
            image.crop(box).save(root / f"{xml.stem}_{i:02d}.png")


def classification_shot(app, work: Path) -> None:
    from gui.main_window import MainWindow

    data = work / "bccd" / "data"
    data.mkdir(parents=True)
    bccd_crops(data)
    recipe = work / "bccd" / "cells.yaml"
    recipe.write_text("cellwright: 1\nname: blood cells\ntask: classification\n"
                      "data: {layout: class_folders, root: data, classes: [RBC, WBC, Platelets]}\n"
                      "model: {template: classifier}\n")
    window = MainWindow()
    window.resize(1500, 950)
    window.show()
    window.open_recipe(str(recipe))
    window.show_page(2)
    page = window.data_page
    page.annotate.toggle.setChecked(True)
    settle(app)
    viewer = page.viewer
    viewer.setFocus()
    for key in (Qt.Key.Key_2, Qt.Key.Key_1, Qt.Key.Key_1, Qt.Key.Key_1):
        QTest.keyClick(viewer, key)
    settle(app)
    window.grab().save(str(OUT / "annotate-5-classify.png"))
    window.close()


def loop_shot(app, work: Path) -> None:
    """The model buttons and the status marks: crops of the DSB image, one proposed, one guard, one marked
    checked with the button (no model is run: the buttons' jobs are tested with real workers in pytest)."""
    import tifffile

    from builder.annotation.checked import mark
    from gui.main_window import MainWindow

    data = work / "loop" / "data"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    image = tifffile.imread(REAL / "dsb2018_one_image" / "img2d.tif")
    mask = tifffile.imread(REAL / "dsb2018_one_image" / "mask2d.tif")
    h, w = image.shape[:2]
    for name, (rows, cols) in {"top": (slice(0, h // 2), slice(None)), "bottom": (slice(h // 2, None), slice(None)),
                               "left": (slice(None), slice(0, w // 2)), "right": (slice(None), slice(w // 2, None))
                               }.items():
        tifffile.imwrite(data / "images" / f"dsb_{name}.tif", image[rows, cols])
        tifffile.imwrite(data / "masks" / f"dsb_{name}.tif", mask[rows, cols].astype(np.uint16))
    mark(data, ["dsb_bottom.tif", "dsb_top.tif"], "proposed", by="nuclei-20261127-1530")
    mark(data, ["dsb_left.tif"], "guard")
    recipe = work / "loop" / "nuclei.yaml"
    recipe.write_text("cellwright: 1\nname: nuclei\ntask: instance_segmentation\n"
                      "data: {layout: folders, root: data, images: images, masks: masks}\n"
                      "model: {template: unet, params: {depth: 2, base_filters: 4}}\n")
    window = MainWindow()
    window.resize(1500, 950)
    window.show()
    window.open_recipe(str(recipe))
    window.show_page(2)
    page = window.data_page
    page.annotate.toggle.setChecked(True)
    page.annotate.loop.set_run(work / "loop" / "runs" / "nuclei-20261127-1530")
    names = [page.files.item(i).text() for i in range(page.files.count())]
    page.files.setCurrentRow(names.index("proposed: images/dsb_top.tif"))
    page.annotate.loop.check.click()
    settle(app)
    window.grab().save(str(OUT / "annotate-6-model-buttons.png"))
    window.close()


def main() -> None:
    from gui.theme import apply_theme

    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app)
    work = Path(tempfile.mkdtemp(prefix="cw-annotate-shots-"))
    segmentation_shots(app, work)
    classification_shot(app, work)
    loop_shot(app, work)
    print(f"screenshots in {OUT}; data in {work}")


if __name__ == "__main__":
    main()

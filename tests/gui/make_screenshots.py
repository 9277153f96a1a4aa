"""Screenshots of every page in a real window (run by hand under Xvfb; not collected by pytest).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tests/gui/make_screenshots.py OUT_DIR [PREFIX] [editor]

With the third argument ``editor`` only the start and editor pages are taken (a few seconds).

Training, the augmentation preview, prediction, the report and the export run the real ``cellwright`` workers
on a small demo data set (about two minutes on a laptop CPU).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "screens")
PREFIX = sys.argv[2] if len(sys.argv) > 2 else "r3-"
EDITOR_ONLY = len(sys.argv) > 3 and sys.argv[3] == "editor"
FAKE = str(Path(__file__).with_name("fake_train_worker.py"))


def settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def wait_for(app: QApplication, condition, timeout: float = 180.0) -> None:
    end = time.time() + timeout
    while time.time() < end and not condition():
        settle(app, 0.1)
    settle(app, 0.5)


def shot(widget, name: str) -> None:
    widget.grab().save(str(OUT / f"{PREFIX}{name}.png"))


def main() -> None:
    from builder.data.demo import make_demo
    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cw-screens-"))
    make_demo("nuclei", work / "data", n_images=10, size=96, seed=0)
    recipe = work / "nuclei.yaml"
    recipe.write_text(
        "cellwright: 1\nname: nuclei-demo\ntask: instance_segmentation\n"
        "data: {layout: folders, root: data, images: images, masks: masks}\n"
        "preprocess: {patch: {size: 64}}\nmodel: {template: unet, params: {depth: 2, base_filters: 8}}\n"
        "augment: {flip: true, rotate90: true}\n"
        "train: {epochs: 6, batch_size: 4, steps_per_epoch: 4, early_stopping: {patience: 3}}\n"
        "export: {formats: []}\n"
    )
    app = QApplication(sys.argv)
    apply_theme(app)
    window = MainWindow()
    window.resize(1500, 920)
    window.show()
    settle(app)
    shot(window, "1-start")

    window.open_recipe(str(recipe))
    editor = window.editor
    editor.scene.set_model_open(False)
    editor.show_stage("augment")
    settle(app)
    shot(window, "2a-editor-pipeline")
    editor.scene.set_model_open(True)
    editor.scene.select_stage("model")
    settle(app)
    shot(window, "2a2-editor-template-node")
    editor.expand_template()
    if editor.doc.graph is None:  # no templates installed yet: build a small U-Net by hand
        view = editor.view
        ids = [view.drop_block(b, QPointF(i * 220.0, 0)) for i, b in enumerate(
            ["input", "conv2d", "max_pooling2d", "conv2d", "upsampling2d", "concatenate", "conv2d", "conv2d"])]
        for s, t in [(0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (4, 5), (5, 6), (6, 7)]:
            slot = len(next(n for n in editor.doc.graph if n["id"] == ids[t])["inputs"])
            editor.scene.request_connection(ids[s], ids[t], slot)
        editor.scene.add_block("dense", (900.0, 260.0))  # left unconnected: shows an error mark
        editor.tidy_layout()
        editor.view.fit_all()
        editor.scene.nodes[ids[3]].setSelected(True)
    nodes = editor.doc.graph
    pick = next((n["id"] for n in nodes if n["block"] in ("conv_block", "conv2d")), nodes[1]["id"])
    editor.scene.nodes[pick].setSelected(True)
    settle(app)
    shot(window, "2-editor")
    pool = editor.scene.add_block("global_average_pooling2d", (0.0, 420.0))
    editor.scene.request_connection(nodes[0]["id"], pool, 0)
    editor.scene.request_connection(pool, pick, 0)  # refused: vector into an image input
    editor.view.centerOn(editor.scene.nodes[pool])
    settle(app)
    shot(window, "2c-editor-refused")
    editor.doc.undo_stack.undo()
    editor.doc.undo_stack.undo()
    editor.scene.clearSelection()
    editor.show_stage("train")
    settle(app)
    shot(window, "2b-editor-train-section")
    editor.scene.set_node_params(pick, {**next(n for n in editor.doc.graph if n["id"] == pick)["params"],
                                        "filters": 12})
    editor.collapse_template()  # refused: the graph was edited after expanding
    editor.view.fit_all()
    settle(app)
    shot(window, "2d-editor-collapse-refused")
    editor.doc.undo_stack.undo()
    editor.collapse_template()
    editor.show_stage("outputs")
    settle(app)
    shot(window, "2e-editor-collapsed-outputs")
    if EDITOR_ONLY:
        window.doc.undo_stack.setClean()
        window.close()
        return

    window.show_page(2)
    window.data_page.set_folder(work / "data")
    settle(app)
    shot(window, "3-data")
    window.data_page.tabs.setCurrentIndex(1)
    window.data_page.augment.start()
    wait_for(app, lambda: window.data_page.augment.button.isEnabled())
    shot(window, "3b-data-augment")

    window.show_page(3)
    window.doc.save()
    window.training.start()
    wait_for(app, lambda: not window.training._watch.isActive(), timeout=400)
    shot(window, "4-training")

    window.show_page(4)
    results = window.results
    results.refresh()
    settle(app)
    shot(window, "5-results")
    results.write_report()
    wait_for(app, lambda: not results.report_worker.running())
    shot(window, "5b-results-report")
    results.tabs.setCurrentWidget(results.predict)
    results.predict.predict(sorted((work / "data" / "images").glob("*.tif"))[:3])
    wait_for(app, lambda: not results.predict.worker.running())
    shot(window, "5c-results-predict")
    dialog = results.export()
    dialog.boxes["onnx"].setChecked(True)
    dialog.start()
    wait_for(app, lambda: dialog.exit_code is not None)
    shot(dialog, "6-export-dialog")
    dialog.close()

    window.show_page(3)
    window.training.command = lambda r, resume: [sys.executable, FAKE, str(work / "runs" / "crash"), "2", "--crash"]
    window.training.start()
    wait_for(app, lambda: not window.training._watch.isActive(), timeout=60)
    shot(window, "7-training-crashed")
    window.training.command = lambda r, resume: [sys.executable, FAKE, str(work / "runs" / "fail"), "2", "--fail"]
    window.training.start()
    wait_for(app, lambda: not window.training._watch.isActive(), timeout=60)
    shot(window, "7b-training-error")
    window.doc.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()

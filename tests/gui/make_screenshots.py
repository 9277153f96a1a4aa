"""Screenshots of every page in a real window (run by hand under Xvfb; not collected by pytest).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tests/gui/make_screenshots.py /work/notes/screens
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "screens")
FAKE = str(Path(__file__).with_name("fake_train_worker.py"))


def settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    from builder.data.demo import make_demo
    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cw-screens-"))
    make_demo("nuclei", work / "data", n_images=4, size=128, seed=0)
    recipe = work / "nuclei.yaml"
    recipe.write_text(
        "cellwright: 1\nname: nuclei-demo\ntask: instance_segmentation\n"
        "data: {layout: folders, root: data, images: images, masks: masks}\n"
        "preprocess: {patch: {size: 64}}\nmodel: {template: unet}\ntrain: {epochs: 6, batch_size: 4}\n"
    )
    app = QApplication(sys.argv)
    apply_theme(app)
    window = MainWindow()
    window.resize(1500, 920)
    window.show()
    settle(app)
    window.grab().save(str(OUT / "1-start.png"))

    window.open_recipe(str(recipe))
    editor = window.editor
    editor.expand_template()
    if editor.doc.graph is None:  # no templates installed yet: build a small U-Net by hand
        view = editor.view
        ids = [view.drop_block(b, QPointF(i * 220.0, 0)) for i, b in enumerate(
            ["input", "conv2d", "max_pooling2d", "conv2d", "upsampling2d", "concatenate", "conv2d", "conv2d"])]
        for s, t in [(0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (4, 5), (5, 6), (6, 7)]:
            slot = len(next(n for n in editor.doc.graph if n["id"] == ids[t])["inputs"])
            editor.scene.request_connection(ids[s], ids[t], slot)
        editor.scene.add_block("dense", (900.0, 260.0))  # left unconnected: shows an error mark
        editor.scene.auto_layout()
        editor.view.fit_all()
        editor.scene.nodes[ids[3]].setSelected(True)
    nodes = editor.doc.graph
    pick = next((n["id"] for n in nodes if n["block"] in ("conv_block", "conv2d")), nodes[1]["id"])
    editor.scene.nodes[pick].setSelected(True)
    settle(app)
    window.grab().save(str(OUT / "2-editor.png"))
    pool = editor.scene.add_block("global_average_pooling2d", (0.0, 420.0))
    editor.scene.request_connection(nodes[0]["id"], pool, 0)
    editor.scene.request_connection(pool, pick, 0)  # refused: vector into an image input
    editor.view.centerOn(editor.scene.nodes[pool])
    settle(app)
    window.grab().save(str(OUT / "2c-editor-refused.png"))
    editor.doc.undo_stack.undo()
    editor.doc.undo_stack.undo()
    editor.scene.clearSelection()
    editor.show_stage("train")
    settle(app)
    window.grab().save(str(OUT / "2b-editor-train-section.png"))

    window.show_page(2)
    window.data_page.set_folder(work / "data")
    settle(app)
    window.grab().save(str(OUT / "3-data.png"))

    window.show_page(3)
    run_dir = work / "runs" / "nuclei-demo-1"
    window.training.command = lambda r, resume: [sys.executable, FAKE, str(run_dir), "6"]
    window.doc.save()
    window.training.start()
    deadline = time.time() + 20
    while time.time() < deadline and not any(e.get("event") == "done" for e in window.training.events):
        settle(app, 0.2)
    settle(app, 0.6)
    window.grab().save(str(OUT / "4-training.png"))

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "recipe.yaml").write_text(recipe.read_text())
    (run_dir / "metrics.json").write_text(json.dumps({"instances": {"ap@0.5": 0.81, "f1@0.5": 0.86, "pq": 0.71},
                                                      "semantic": {"iou": 0.83, "dice": 0.9}}))
    (run_dir / "report.html").write_text("<html><body>report</body></html>")
    window.show_page(4)
    window.results.refresh()
    settle(app)
    window.grab().save(str(OUT / "5-results.png"))
    dialog = window.results.export()
    settle(app)
    dialog.grab().save(str(OUT / "6-export-dialog.png"))
    dialog.close()
    window.doc.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()

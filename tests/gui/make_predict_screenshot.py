"""Screenshot of the results page predicting new images with a trained run (run by hand under Xvfb; not collected).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tests/gui/make_predict_screenshot.py RUN_DIR OUT.png

RUN_DIR is a finished run folder (e.g. from ``cellwright train recipes/examples/nuclei_instances.yaml``); it is
copied into a temporary project with its recipe, the app opens that recipe, and the *Predict new images* tab predicts
three demo images through the app's long-lived prediction worker (``cellwright serve``). The log then names the
network engine (ONNX Runtime when the run has its ONNX copy).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication


def settle(app: QApplication, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    from builder.data.demo import make_demo
    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    run, out = Path(sys.argv[1]), Path(sys.argv[2])
    work = Path(tempfile.mkdtemp(prefix="cw-predict-shot-"))
    shutil.copytree(run, work / "runs" / run.name)
    shutil.copy(run / "recipe.yaml", work / "recipe.yaml")
    make_demo("nuclei", work / "new", n_images=3, size=256, seed=7)
    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app)
    window = MainWindow()
    window.resize(1500, 950)
    window.show()
    window.open_recipe(str(work / "recipe.yaml"))
    window.show_page(4)
    results = window.results
    results.refresh(select=run.name)
    results.tabs.setCurrentWidget(results.predict)
    started = time.time()
    results.predict.predict(sorted((work / "new" / "images").glob("*.tif")))
    while time.time() - started < 120 and results.predict.worker.running():
        settle(app, 0.1)
    settle(app, 1.5)
    print(f"prediction in the app took {time.time() - started:.1f} s")
    window.grab().save(str(out))
    window.doc.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()

"""Screenshot of the training page after a real kill and resume (run by hand, under Xvfb)::

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tests/gui/make_resume_screenshot.py OUT_DIR

A tiny model is trained through the training page with the real ``cellwright train`` worker; after three epochs
the worker is killed (as a crash or a closed laptop would), then "Resume" continues the run. The page must still
show the epochs before the kill. Writes ``app-training-real-killed.png`` and ``app-training-real-resumed.png``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_screenshots import settle, wait_for

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "screens")


def _epochs_done(run_dir: str | None) -> int:
    history = Path(run_dir or "/nonexistent") / "history.json"
    try:
        return len(json.loads(history.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return 0


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from builder.data.demo import make_demo
    from gui import workers
    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app)
    work = Path(tempfile.mkdtemp(prefix="cw-resume-shot-"))
    make_demo("nuclei", work / "data", n_images=8, size=128, seed=1)
    recipe = work / "small.yaml"
    recipe.write_text("cellwright: 1\nname: small\ntask: instance_segmentation\n"
                      "data: {layout: folders, root: data, images: images, masks: masks}\n"
                      "preprocess: {patch: {size: 64}}\nmodel: {template: unet, params: {depth: 2, base_filters: 8}}\n"
                      "train: {epochs: 8, batch_size: 4, steps_per_epoch: 6}\nreport: {enabled: false}\n"
                      "export: {formats: []}\n", encoding="utf-8")
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    window.open_recipe(str(recipe))
    window.show_page(3)
    page = window.training
    page.start()
    wait_for(app, lambda: _epochs_done(page.run_dir) >= 3 or not page.running(), 900)
    workers.stop_process(page.pid)  # killed mid-run, not a polite stop
    wait_for(app, lambda: not page.running(), 60)
    settle(app, 1.0)
    window.grab().save(str(OUT / "app-training-real-killed.png"))
    page.start(resume=True)
    wait_for(app, lambda: not page._watch.isActive() and not page.running(), 900)
    settle(app, 1.0)
    window.grab().save(str(OUT / "app-training-real-resumed.png"))
    print(OUT, _epochs_done(page.run_dir), "epochs in history")
    sys.stdout.flush()
    os._exit(0)  # skip Qt's teardown order at interpreter exit


if __name__ == "__main__":
    main()

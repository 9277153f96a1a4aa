"""Screenshots of the walkthrough fixes and the viewer, without training (a few seconds; run by hand under Xvfb).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tests/gui/make_viewer_screenshots.py OUT_DIR [real]

Pages: start, wizard with the doctor's report, editor with an expanded template after Fit (and a stray block),
data page with the viewer zoomed in, prediction panel comparing prediction and ground truth (files written
here), the training page after a resume and during the evaluation (events from the stand-in worker). With
``real``, a tiny model is also trained through the training page (the real ``cellwright train`` worker, a few
minutes on a busy CPU) and the results page predicts with it: the run list refreshing by itself and the
prediction overlay.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import tifffile
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtWidgets import QApplication, QWizard

sys.path.insert(0, str(Path(__file__).parent))
from make_screenshots import settle, wait_for

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "screens")


def shot(widget, name: str) -> None:
    widget.grab().save(str(OUT / f"app-{name}.png"))


def main() -> None:
    from builder.data.demo import make_demo
    from builder.tasks import all_tasks
    from gui.main_window import MainWindow
    from gui.pages.predict_panel import PredictPanel
    from gui.pages.wizard import NewRecipeWizard
    from gui.theme import apply_theme

    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cw-app-shots-"))
    import os

    os.environ["CELLWRIGHT_SETTINGS_FILE"] = str(work / "settings.ini")  # keep the user's recent list clean
    make_demo("nuclei", work / "data", n_images=8, size=256, seed=0)
    recipe = work / "nuclei.yaml"
    recipe.write_text("cellwright: 1\nname: nuclei\ntask: instance_segmentation\n"
                      "data: {layout: folders, root: data, images: images, masks: masks}\n"
                      "model: {template: unet, params: {depth: 4, base_filters: 8}}\n", encoding="utf-8")
    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app)
    window = MainWindow()
    window.unsaved_answer = lambda: __import__("PySide6.QtWidgets").QtWidgets.QMessageBox.StandardButton.Discard
    window.resize(1380, 860)
    window.show()
    window.open_recipe(str(recipe))
    window.show_page(0)
    settle(app)
    shot(window, "start")

    task = next(name for name, spec in all_tasks().items() if spec.mask_target and not spec.masks_are_classes)
    wizard = NewRecipeWizard(task, window)
    wizard.resize(760, 560)
    wizard.show()
    wizard.button(QWizard.WizardButton.NextButton).click()
    wizard.folder.setText(str(work / "data"))
    wait_for(app, lambda: wizard.data_page.report is not None, 120)
    shot(wizard, "wizard-doctor")
    empty = work / "empty"
    empty.mkdir()
    wizard.folder.setText(str(empty))
    wait_for(app, lambda: wizard.data_page.report is not None, 60)
    shot(wizard, "wizard-empty")
    wizard.folder.setText("")
    wizard.button(QWizard.WizardButton.NextButton).click()
    wizard.template.setCurrentText("fpn")
    settle(app)
    shot(wizard, "wizard-template")
    wizard.close()

    window.show_page(1)
    window.editor.inspector.show_section("model")
    settle(app)
    shot(window.editor.inspector, "inspector-model")
    window.editor.expand_template()
    window.editor.view.add_at_center("conv2d")
    settle(app, 1.0)
    window.editor.view.fit_all()
    settle(app, 0.5)
    shot(window, "editor-expanded")

    window.show_page(2)
    window.data_page.load_from_recipe()
    settle(app, 1.0)
    viewer = window.data_page.viewer
    viewer.set_zoom(3.0, QPointF(viewer.width() / 2, viewer.height() / 2))
    window.data_page.controls.outline.setChecked(True)
    target = viewer.image_to_widget(QPointF(*np.argwhere(viewer.current_layer.labels > 0)[0][::-1] + 2)).toPoint()
    from PySide6.QtGui import QMouseEvent  # noqa: F401 - hover through a real move below
    from PySide6.QtTest import QTest

    QTest.mouseMove(viewer, QPoint(target))
    settle(app)
    shot(window, "data-viewer-zoomed")

    out = work / "predictions"
    out.mkdir()
    image = sorted((work / "data" / "images").iterdir())[0]
    truth = tifffile.imread(work / "data" / "masks" / image.name)
    predicted = truth.copy()
    predicted[predicted % 4 == 0] = 0  # a model that misses a quarter of the nuclei
    tifffile.imwrite(out / f"{image.stem}_labels.tif", predicted)
    panel = PredictPanel()
    panel.resize(1200, 700)
    panel.show()
    panel.images, panel.out_dir = [image], out
    panel._finished(0)
    panel.controls.compare.setCurrentIndex(1)
    panel.viewer.swipe = 0.5
    settle(app)
    shot(panel, "predict-swipe")
    panel.controls.compare.setCurrentIndex(2)
    settle(app)
    shot(panel, "predict-side")
    # training after a resume: the fake worker continues a run whose history.json holds 3 epochs
    import json

    from gui.pages.training import TrainingPage

    fake = str(Path(__file__).with_name("fake_train_worker.py"))
    run = work / "runs" / "nuclei-1"
    run.mkdir(parents=True)
    run.joinpath("history.json").write_text(json.dumps(
        [{"epoch": e, "loss": 1.4 / e, "val_loss": 1.6 / e, "dice": 0.2 * e} for e in (1, 2, 3)]))
    from gui.document import RecipeDocument

    clean = RecipeDocument()
    clean.load(recipe)
    page = TrainingPage(clean, command=lambda _recipe, _resume: [sys.executable, fake, str(run), "7", "--from", "3"])
    page.resize(1200, 760)
    page.show()
    page.run_dir = str(run)
    page.start(resume=True)
    finished: list[str] = []
    page.run_finished.connect(finished.append)
    wait_for(app, lambda: bool(finished), 120)
    page.curves.redraw()
    settle(app, 1.0)
    shot(page, "training-resumed")
    # the evaluation after training: a determinate "image i of n" bar (the stand-in worker sends 12 steps)
    page.command = lambda _recipe, _resume: [sys.executable, fake, str(run), "7", "--from", "6", "--evaluate", "12"]
    page.start(resume=True)
    wait_for(app, lambda: page.progress.format().startswith("Evaluating: image 5"), 60)
    shot(page, "training-evaluating")
    wait_for(app, lambda: not page._watch.isActive(), 60)
    if len(sys.argv) > 2 and sys.argv[2] == "real":
        real_results(app, window, work)
    print(OUT)
    sys.stdout.flush()
    os._exit(0)  # skip Qt's teardown order at interpreter exit


def real_results(app, window, work: Path) -> None:
    """Train a tiny model through the training page (real worker), then predict on the results page."""
    make_demo_images = __import__("builder.data.demo", fromlist=["make_demo"]).make_demo
    make_demo_images("nuclei", work / "small" / "data", n_images=8, size=128, seed=1)
    recipe = work / "small" / "small.yaml"
    recipe.write_text("cellwright: 1\nname: small\ntask: instance_segmentation\n"
                      "data: {layout: folders, root: data, images: images, masks: masks}\n"
                      "preprocess: {patch: {size: 64}}\nmodel: {template: unet, params: {depth: 2, base_filters: 8}}\n"
                      "train: {epochs: 4, batch_size: 4, steps_per_epoch: 4}\nreport: {enabled: false}\n"
                      "export: {formats: []}\n", encoding="utf-8")
    window.open_recipe(str(recipe))
    window.show_page(3)
    window.training.start()
    wait_for(app, lambda: window.training.progress.format().startswith(("Evaluating", "Tuning")), 900)
    shot(window, "training-real-evaluating")
    wait_for(app, lambda: not window.training._watch.isActive(), 900)
    shot(window, "training-real-finished")
    window.show_page(4)
    results = window.results
    settle(app)
    shot(window, "results-run-listed")
    results.tabs.setCurrentWidget(results.predict)
    results.predict.predict(sorted((work / "small" / "data" / "images").glob("*.tif"))[:3])
    wait_for(app, lambda: not results.predict.worker.running(), 600)
    results.predict.controls.compare.setCurrentIndex(1)
    results.predict.viewer.swipe = 0.5
    settle(app, 1.0)
    shot(window, "results-prediction-overlay")


if __name__ == "__main__":
    main()

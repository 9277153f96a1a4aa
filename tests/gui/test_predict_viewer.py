"""The predict panel shows results in the viewer, with the ground truth for comparison when it is found."""

from __future__ import annotations

import numpy as np
import tifffile
from PySide6.QtCore import Qt


def test_prediction_and_ground_truth_layers_can_be_compared(qtbot, tmp_path):
    from gui.pages.predict_panel import PredictPanel

    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    image = np.full((64, 80), 200, np.uint16)
    truth = np.zeros((64, 80), np.uint16)
    truth[5:20, 5:20], truth[30:50, 40:70] = 1, 2
    predicted = truth.copy()
    predicted[30:50, 40:70] = 0  # the model missed one nucleus
    tifffile.imwrite(tmp_path / "images" / "a.tif", image)
    tifffile.imwrite(tmp_path / "masks" / "a.tif", truth)
    tifffile.imwrite(out / "a_labels.tif", predicted)
    panel = PredictPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    panel.images, panel.out_dir = [tmp_path / "images" / "a.tif"], out
    panel._finished(0)  # what the predict worker's end does
    assert panel.caption.text().startswith("a.tif: 1 objects")
    assert [layer.name for layer in panel.viewer.layers] == ["prediction", "ground truth"]
    assert panel.controls.compare.isEnabled()
    panel.controls.compare.setCurrentIndex(2)
    assert panel.viewer.compare_mode == "side"
    where = panel.viewer.image_to_widget(panel.viewer.center).toPoint()
    qtbot.mouseMove(panel.viewer, where)
    assert "prediction:" in panel.hover.text()
    qtbot.mouseClick(panel.viewer, Qt.MouseButton.LeftButton)


def test_predict_waits_for_tuned_thresholds(qtbot, tmp_path):
    import json

    from builder.tasks import all_tasks
    from gui.pages.predict_panel import PredictPanel

    task = next(name for name, spec in all_tasks().items() if spec.has_tuned_postprocess)
    run = tmp_path / "runs" / "r1"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "best.keras").write_bytes(b"model")
    (run / "recipe.yaml").write_text(f"cellwright: 1\nname: r\ntask: {task}\n", encoding="utf-8")
    panel = PredictPanel()
    qtbot.addWidget(panel)
    panel.set_run(run)
    assert not panel.choose_button.isEnabled()
    assert "not tuned" in panel.status.text()
    (run / "postprocess.json").write_text(json.dumps({"threshold": 0.5}), encoding="utf-8")
    panel.set_run(run)
    assert panel.choose_button.isEnabled()

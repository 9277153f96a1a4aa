"""The predict panel with a batch holding a broken file: the others are shown, the broken one is named."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.builder.workflow.predict_helpers import (
    disk_image,
    disk_labels,
    write_threshold_instance_run,
    write_tiff,
)


def _run(tmp_path):
    return write_threshold_instance_run(tmp_path / "run")


def test_broken_file_is_named_and_the_rest_shown(qtbot, tmp_path):
    from gui.pages.predict_panel import PredictPanel

    run = _run(tmp_path)
    good = write_tiff(tmp_path / "in" / "good.tif", disk_image(disk_labels()))
    broken = tmp_path / "in" / "broken.tif"
    broken.write_bytes(good.read_bytes()[:300])
    panel = PredictPanel()
    qtbot.addWidget(panel)
    panel.set_run(run)
    assert panel.predict([good, broken], tmp_path / "out")
    qtbot.waitUntil(lambda: not panel.worker.running(), timeout=120000)
    qtbot.wait(50)
    text = panel.status.text()
    assert "1 image(s) predicted" in text and "1 skipped" in text and "broken.tif" in text, text
    assert panel.list.count() == 1 and panel.list.item(0).text() == "good.tif"
    assert (tmp_path / "out" / "objects.csv").exists()


def test_rgb_image_is_named_then_predicted_with_the_channel_box(qtbot, tmp_path):
    from gui.pages.predict_panel import PredictPanel

    run = _run(tmp_path)
    grey = disk_image(disk_labels())
    rgb = np.stack([grey // 16, (grey // 5).clip(0, 255), grey // 16], axis=-1).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    panel = PredictPanel()
    qtbot.addWidget(panel)
    panel.set_run(run)
    assert panel.predict([tmp_path / "rgb.tif"], tmp_path / "out")
    qtbot.waitUntil(lambda: not panel.worker.running(), timeout=120000)
    qtbot.wait(50)
    assert "RGB" in panel.status.text() and "Channel box" in panel.status.text(), panel.status.text()
    assert panel.list.count() == 0

    panel.channel.setText("green")
    assert panel.options() == ["--channel", "green"]
    assert panel.predict([tmp_path / "rgb.tif"], tmp_path / "out2")
    qtbot.waitUntil(lambda: not panel.worker.running(), timeout=120000)
    qtbot.wait(50)
    assert panel.list.count() == 1, panel.status.text()
    assert tifffile.imread(tmp_path / "out2" / "rgb_labels.tif").max() == 3

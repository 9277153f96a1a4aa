"""Kill the app (SIGKILL) in the middle of a stroke: the masks up to the last autosave are on disk, valid."""

from __future__ import annotations

import hashlib
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import tifffile

from builder.annotation.store import read_labels

CHILD = Path(__file__).with_name("annotate_crash_child.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_killed_mid_stroke_keeps_everything_up_to_the_last_autosave(qtbot, tmp_path):
    (tmp_path / "data" / "images").mkdir(parents=True)
    tifffile.imwrite(tmp_path / "data" / "images" / "plate.tif", np.full((40, 40), 30, np.uint8))
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: crash\ntask: instance_segmentation\n"
                                     "data: {layout: folders, root: data, images: images, masks: masks}\n"
                                     "model: {template: unet, params: {depth: 2, base_filters: 4}}\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
           "CELLWRIGHT_GUI_SETTINGS": "test", "HOME": str(tmp_path)}
    child = subprocess.Popen([sys.executable, str(CHILD), str(tmp_path / "r.yaml")], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    assert child.stdout is not None
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in child.stdout], daemon=True).start()
    seen: list[str] = []
    try:
        while not seen or seen[-1] != "MID-STROKE":
            try:
                seen.append(lines.get(timeout=120))  # a hung child fails the test instead of blocking it
            except queue.Empty:
                pytest.fail("the app printed nothing for 120 s:\n" + "\n".join(seen))
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    saved = [line.split() for line in seen if line.startswith("SAVED")]
    assert [s[1] for s in saved] == ["1", "2"], seen

    mask = tmp_path / "data" / "masks" / "plate.tif"
    with tifffile.TiffFile(mask) as tif:  # a complete, valid TIFF
        assert tif.pages[0].shape == (40, 40)
    labels = read_labels(mask)
    assert hashlib.sha256(np.ascontiguousarray(labels, np.int32).tobytes()).hexdigest() == saved[-1][2]
    assert sorted(np.unique(labels)) == [0, 1, 2, 3, 4]  # strokes 1-4 (autosaved); not 5 or the cut-off 6th
    assert sorted(p.name for p in mask.parent.iterdir()) == ["plate.tif"]  # no temporary files left

    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    doc = RecipeDocument()
    doc.load(tmp_path / "r.yaml")
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.load_from_recipe()  # reopen: the page shows the saved mask
    np.testing.assert_array_equal(page.viewer.current_layer.labels, labels)

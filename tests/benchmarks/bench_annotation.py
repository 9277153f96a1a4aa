"""Time of a brush stroke on a big label image: each mouse move (paint + redraw data) and the stroke's end
(undo record, autosave check), on the real viewer with the real tool.

Run: ``PYTHONPATH=$PWD QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_annotation.py [SIZE]``
Prints the viewer's plain redraw (for comparison), the median and slowest mouse move (paint + redraw), the stroke
end (undo record, areas) and the time to save the mask (atomic TIFF).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(size: int = 2048, moves: int = 40) -> dict[str, float]:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtWidgets import QApplication

    from gui.annotation.session import LabelSession
    from gui.annotation.tools import BrushTool
    from gui.viewer import ImageViewer

    app = QApplication.instance() or QApplication(sys.argv)
    import scipy.ndimage  # noqa: F401  (imported once by the first stroke in the app; not timed here)
    labels = (np.arange(size)[:, None] // 32 * 128 + np.arange(size)[None, :] // 32).astype(np.int32)
    labels[labels % 3 == 0] = 0
    viewer = ImageViewer()
    viewer.resize(1000, 800)
    viewer.show()
    viewer.set_image(np.zeros((size, size), np.uint16))
    layer = viewer.add_labels("mask", labels)
    app.processEvents()
    session = LabelSession(viewer, layer, Path(tempfile.mkdtemp()) / "masks" / "big.tif", every_strokes=0,
                           every_seconds=0)
    tool = BrushTool(session, radius=8)

    class Event:  # what the tool reads of a mouse event
        def __init__(self, buttons=Qt.MouseButton.LeftButton) -> None:
            self._b = buttons

        def button(self):
            return Qt.MouseButton.LeftButton

        def buttons(self):
            return self._b

    redraws = []
    for _ in range(10):  # the viewer's own redraw, for comparison
        start = time.perf_counter()
        viewer.repaint()
        redraws.append(time.perf_counter() - start)
    tool.press(QPointF(100, 100), Event())
    times = []
    for i in range(moves):
        start = time.perf_counter()
        tool.move(QPointF(100 + 5 * i, 100 + 3 * i), Event())
        viewer.repaint()
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    tool.release(QPointF(100 + 5 * moves, 100 + 3 * moves), Event())
    end = time.perf_counter() - start
    start = time.perf_counter()
    session.save()
    save = time.perf_counter() - start
    app.processEvents()
    result = {"redraw_only_median_ms": 1000 * statistics.median(redraws),
              "move_median_ms": 1000 * statistics.median(times), "move_max_ms": 1000 * max(times),
              "stroke_end_ms": 1000 * end, "save_ms": 1000 * save}
    print(f"{size} x {size} labels: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2048)

"""Redraw time of the image viewer for one pan step on a 4096 x 4096 16-bit image with a label layer.

Run: ``PYTHONPATH=$PWD QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_viewer.py`` (goal: < 50 ms).
Prints the median and the slowest of 30 pan steps at 1:1, at 4x and at "fit" zoom.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(size: int = 4096, steps: int = 30) -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    from gui.viewer import ImageViewer

    app = QApplication.instance() or QApplication(sys.argv)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 65535, size=(size, size), dtype=np.uint16)
    labels = np.zeros((size, size), np.int32)
    labels[::64, :] = 1
    labels = (np.arange(size)[:, None] // 32 * 128 + np.arange(size)[None, :] // 32).astype(np.int32)
    labels[labels % 3 == 0] = 0
    viewer = ImageViewer()
    viewer.resize(1280, 900)
    viewer.show()
    app.processEvents()
    viewer.set_image(image)
    viewer.add_labels("labels", labels)
    results = {}
    for name, zoom in (("1:1", 1.0), ("4x", 4.0), ("fit", None)):
        if zoom is None:
            viewer.fit()
        else:
            viewer.set_zoom(zoom)
        viewer.repaint()
        times = []
        for index in range(steps):
            start = time.perf_counter()
            viewer.pan_by(40 if index % 2 == 0 else -40, 25)
            viewer.repaint()
            times.append((time.perf_counter() - start) * 1000)
        results[name] = statistics.median(times)
        print(f"pan step at zoom {name:>3} ({viewer.zoom * 100:.0f} %): median {statistics.median(times):.1f} ms, "
              f"slowest {max(times):.1f} ms ({size}x{size} uint16 + labels, 1280x900 view)")
    return results


if __name__ == "__main__":
    main()

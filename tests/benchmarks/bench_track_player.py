"""Time per played frame of the track player on a 1024 x 1024 time-lapse with ~300 moving cells.

Run: ``PYTHONPATH=$PWD QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_track_player.py``
Prints the median and slowest step (next frame: label swap + image render + overlay) over the frames, first
playing through (centroids measured on the way) and then again (centroids kept), with 10-frame tails, without
tails, and with neither tails nor track numbers (the image and outlines alone: the overlay's cost is the
difference). Times are the process's CPU time, so other programs on a busy machine count less.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def movie(size: int = 1024, frames: int = 30, cells: int = 300, seed: int = 0):
    """Discs of radius 12 drifting randomly; labels are track ids (a real TrackMovie)."""
    from builder.tracking.lineage import TrackRow
    from builder.tracking.movie import TrackMovie

    rng = np.random.default_rng(seed)
    centres = rng.uniform(20, size - 20, (cells, 2))
    yy, xx = np.mgrid[-12:13, -12:13]
    disc = yy**2 + xx**2 <= 144
    labels = np.zeros((frames, size, size), np.int32)
    images = rng.integers(90, 110, (frames, size, size)).astype(np.uint16)
    for t in range(frames):
        centres = np.clip(centres + rng.normal(0, 2, centres.shape), 13, size - 14)
        for k, (cy, cx) in enumerate(centres.astype(int), start=1):
            window = labels[t, cy - 12:cy + 13, cx - 12:cx + 13]
            window[disc] = k
            images[t, cy - 12:cy + 13, cx - 12:cx + 13][disc] += 400
    return TrackMovie(images, labels, [TrackRow(k, 0, frames - 1, 0) for k in range(1, cells + 1)], "synthetic")


def main() -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    from gui.pages.track_player import TrackPlayer

    app = QApplication.instance() or QApplication(sys.argv)
    player = TrackPlayer()
    player.resize(1280, 1000)
    player.show()
    app.processEvents()
    data = movie()
    results = {}
    for name, tail, ids in (("first pass, tails 10 + ids", 10, True), ("second pass, tails 10 + ids", 10, True),
                            ("ids, no tails", 0, True), ("image + outlines only", 0, False)):
        if name.startswith("first"):
            player.set_movie(data)
            app.processEvents()
        player.tail.setValue(tail)
        player.ids.setChecked(ids)
        player.set_frame(0)
        player.viewer.repaint()
        times = []
        for _ in range(data.n_frames - 1):
            start = time.process_time()
            player.step(1)
            player.viewer.repaint()
            times.append((time.process_time() - start) * 1000)
        results[name] = statistics.median(times)
        print(f"{name}: median {statistics.median(times):.1f} ms, slowest {max(times):.1f} ms CPU per frame "
              f"({data.n_frames - 1} steps, 1024x1024, {len(data.tracks)} tracks, zoom {player.viewer.zoom:.2f})")
    return results


if __name__ == "__main__":
    main()

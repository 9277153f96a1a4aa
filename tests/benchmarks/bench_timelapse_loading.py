"""How long the data page's time-lapse tab blocks the window while it reads the SIM+ sequence (../shared/realdata).

Run: PYTHONPATH=$PWD QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_timelapse_loading.py
Prints the reading time (in the pane's worker thread), the time ``set_movie`` takes on the GUI thread, and the
longest gap between ticks of a 20 ms GUI-thread timer while the pane reads the sequence (the longest freeze).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SEQUENCE = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "ctc_Fluo-N2DH-SIM+_01"


def main() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from builder.tracking.movie import movie_from_ctc
    from gui.pages.track_player import TimelapsePane

    app = QApplication.instance() or QApplication([])
    began, cpu = time.perf_counter(), time.process_time()
    movie = movie_from_ctc(SEQUENCE, "01")
    read, read_cpu = time.perf_counter() - began, time.process_time() - cpu
    pane = TimelapsePane()
    pane.resize(1000, 800)
    pane.show()
    app.processEvents()
    began = time.perf_counter()
    pane.player.set_movie(movie)
    app.processEvents()
    shown = time.perf_counter() - began
    print(f"reading {movie.n_frames} frames: {read:.2f} s ({read_cpu:.2f} s CPU); set_movie on the GUI thread: "
          f"{shown:.2f} s")
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(20)
    done: list[bool] = []
    pane.loaded.connect(done.append)
    began = time.perf_counter()
    pane.follow(SEQUENCE / "01" / "t010.tif")
    while not done:
        app.processEvents()
        time.sleep(0.005)
    print(f"reading through the pane: {time.perf_counter() - began:.2f} s; GUI timer ticks {len(gaps)}, longest "
          f"gap {max(gaps) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

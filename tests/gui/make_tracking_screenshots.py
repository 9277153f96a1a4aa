"""Screenshots of tracking in the app (run by hand under Xvfb; a few seconds plus loading the sequence):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tests/gui/make_tracking_screenshots.py OUT CTC [RECIPE]

``CTC``: a Cell Tracking Challenge data set (e.g. ../shared/realdata/ctc_Fluo-N2DH-SIM+_01); the data page plays
its sequence with track overlays (``track-data-*.png``). ``RECIPE``: a tracking recipe with a finished run in its
``runs/`` folder; the results page shows the newest run's scores and lineage (``track-results-*.png``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).parent))
from make_screenshots import settle, wait_for

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "screens")


def shot(widget, name: str) -> None:
    widget.grab().save(str(OUT / f"track-{name}.png"))


def main() -> None:
    import os

    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    OUT.mkdir(parents=True, exist_ok=True)
    data = Path(sys.argv[2]).resolve()
    work = Path(tempfile.mkdtemp(prefix="cw-track-shots-"))
    os.environ["CELLWRIGHT_SETTINGS_FILE"] = str(work / "settings.ini")
    recipe = work / "tracking.yaml"
    recipe.write_text(f"cellwright: 1\nname: simplus\ntask: tracking\ndata: {{layout: ctc, root: {data}}}\n",
                      encoding="utf-8")
    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app)
    window = MainWindow()
    window.resize(1500, 920)
    window.show()
    window.open_recipe(str(recipe))
    window.show_page(2)
    page = window.data_page
    page.load_from_recipe()
    pane = page.timelapse
    wait_for(app, lambda: pane.player.movie is not None, 120)
    player = pane.player
    movie = player.movie
    division = min((t for t in movie.tracks if t.parent and t.begin > 8), key=lambda t: t.begin, default=None)
    player.play()
    settle(app, 2.0)
    shot(window, "data-playing")
    player.pause()
    frame = division.begin + 2 if division else movie.n_frames // 2
    player.set_frame(frame)
    settle(app)
    shot(window, "data-division")
    if division is not None:
        viewer = player.viewer
        from PySide6.QtCore import QPointF

        y, x = movie.centroids(division.begin)[division.label]
        viewer.set_zoom(2.5)
        viewer.center = QPointF(x, y)
        viewer.update()
        settle(app)
        shot(player, "data-division-zoom")

    if len(sys.argv) > 3:
        window.open_recipe(str(Path(sys.argv[3]).resolve()))
        results = window.results
        results.refresh()
        window.show_page(4)
        settle(app, 1.0)
        shot(window, "results-scores")
        results.tabs.setCurrentWidget(results.lineage)
        settle(app, 1.0)
        view = results.lineage.view
        longest = max(view.tracks, key=lambda t: t["end"] - t["begin"])
        results.lineage._clicked(longest["label"], longest["begin"] + 1)
        view.selected = longest["label"]
        settle(app)
        shot(window, "results-lineage")
    window.close()


if __name__ == "__main__":
    main()

"""``predict`` on a time-lapse links with the recipe's ``evaluate.tracking`` and writes tracks, CTC files, figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from builder.data.demo_timelapse import simulate_timelapse
from builder.recipe import load_recipe
from builder.tasks.tracking import Tracking
from builder.tracking.ctc_files import read_ctc_result
from builder.tracking.movie import SOURCE_FILE, movie_from_result


def _predicted_frames(tmp_path: Path) -> list[dict]:
    """Frames of a real simulated time-lapse (with a division) and their label images, as predict's rows."""
    images, labels, parents = simulate_timelapse(np.random.default_rng(3), (64, 64), 12)
    assert parents  # the simulation divides a cell
    movie = tmp_path / "movie.tif"
    tifffile.imwrite(movie, images, metadata={"axes": "TYX"})
    rows = []
    for t in range(len(images)):
        path = tmp_path / f"movie_t{t:03d}_labels.tif"
        tifffile.imwrite(path, labels[t])
        rows.append({"file": str(movie), "frame": t, "sequence": "movie", "outputs": [str(path)]})
    return rows


def _recipe(tmp_path: Path, tracking: str):
    path = tmp_path / f"r{abs(hash(tracking))}.yaml"
    path.write_text(f"cellwright: 1\nname: t\ntask: tracking\ndata: {{layout: ctc, root: data}}\n"
                    f"evaluate:\n  tracking: {tracking}\n")
    return load_recipe(path)


def test_predict_links_with_the_recipes_tracking_settings(tmp_path):
    rows = _predicted_frames(tmp_path)
    for out in ("a", "b"):
        (tmp_path / out).mkdir()
    default = Tracking().write_summary(tmp_path / "a", rows, [], recipe=_recipe(tmp_path, "{}"))
    _masks, tracks = read_ctc_result(tmp_path / "a" / "tracks")
    assert any(t.parent for t in tracks)  # divisions (and gap closing) link tracks by default
    Tracking().write_summary(tmp_path / "b", rows, [], recipe=_recipe(tmp_path, "{divisions: false, max_gap: 0}"))
    masks, tracks = read_ctc_result(tmp_path / "b" / "tracks")
    assert tracks and not any(t.parent for t in tracks)  # the recipe turned divisions and gap closing off
    assert masks.shape == (12, 64, 64)

    names = {Path(p).name for p in default}
    assert {"tracks.csv", "res_track.txt", "lineage.png", "tracks_overlay.png", "kymograph.png", SOURCE_FILE} <= names
    for png in ("lineage.png", "tracks_overlay.png", "kymograph.png"):
        assert (tmp_path / "a" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    movie = movie_from_result(tmp_path / "a" / "tracks")  # the player finds the frames the tracks came from
    assert np.array_equal(movie.frames[..., 0], tifffile.imread(tmp_path / "movie.tif"))

"""A tracked time-lapse ready to play: frames, labels by track id, the lineage and per-frame centroids.

Built from Cell Tracking Challenge training data (``NN/tTTT.tif`` with ``NN_GT/TRA`` markers and, where present,
``NN_GT/SEG`` masks) or from a tracking result (``res_track.txt`` + ``maskTTT.tif``, as ``cellwright predict``
writes them) with its frames. The GUI's player and the report's figures draw from it; no Qt here.
Centroids are measured per frame on first use and kept, so playing a long 1024² sequence stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from builder.errors import DataError
from builder.tracking.lineage import TrackRow

Point = tuple[float, float]  # (y, x) in pixels


@dataclass
class TrackMovie:
    """Frames (T, Y, X, C), labels (T, Y, X) whose values are track ids, and the tracks (``L B E P`` rows)."""

    frames: np.ndarray
    labels: np.ndarray
    tracks: list[TrackRow]
    source: str = ""
    _centres: dict[int, dict[int, Point]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.frames.ndim == 3:
            self.frames = self.frames[..., None]
        if self.frames.shape[:3] != self.labels.shape:
            raise DataError(self.source or "time-lapse", f"frames are {self.frames.shape[:3]} (T, Y, X) but the "
                            f"track labels are {self.labels.shape}.",
                            "Give the frames the tracks were made from (same number of frames, same size).")

    @property
    def n_frames(self) -> int:
        return int(self.labels.shape[0])

    def track(self, label: int) -> TrackRow | None:
        return next((t for t in self.tracks if t.label == label), None)

    def daughters(self) -> dict[int, list[int]]:
        """Parent track id -> its daughter track ids."""
        out: dict[int, list[int]] = {}
        for t in self.tracks:
            if t.parent:
                out.setdefault(t.parent, []).append(t.label)
        return out

    def n_divisions(self) -> int:
        """Tracks with two or more daughters."""
        return sum(1 for kids in self.daughters().values() if len(kids) >= 2)

    def centroids(self, t: int) -> dict[int, Point]:
        """(y, x) centre of every track present in frame ``t`` (measured once, then kept)."""
        if t not in self._centres:
            from builder.tracking.detections import frame_objects

            objects = frame_objects(self.labels[t])
            self._centres[t] = {int(k): (float(c[0]), float(c[1]))
                                for k, c in zip(objects.labels, objects.centroids, strict=True)}
        return self._centres[t]

    def tail(self, label: int, t: int, length: int) -> list[Point]:
        """Centres of track ``label`` over frames ``t - length .. t`` (frames where it is present), oldest first."""
        return [c for s in range(max(0, t - length), t + 1) if (c := self.centroids(s).get(label)) is not None]

    def division_links(self, t: int, length: int) -> list[tuple[Point, Point, int]]:
        """(mother's last centre, daughter's first centre, daughter id) for daughters born in ``t-length+1 .. t``."""
        links = []
        for row in self.tracks:
            if not row.parent or not (t - length < row.begin <= t):
                continue
            mother = self.track(row.parent)
            if mother is None or not 0 <= mother.end < self.n_frames:
                continue
            start, end = self.centroids(row.begin).get(row.label), self.centroids(mother.end).get(mother.label)
            if start is not None and end is not None:
                links.append((end, start, row.label))
        return links


def relabel_seg_by_markers(seg: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """SEG objects given the id of the TRA marker they overlap most (objects without a marker are dropped)."""
    seg, markers = np.asarray(seg), np.asarray(markers)
    out = np.zeros(seg.shape, np.int32)
    where = np.flatnonzero((seg > 0) & (markers > 0))
    if not len(where):
        return out
    s = seg.ravel()[where].astype(np.int64)
    m = markers.ravel()[where].astype(np.int64)
    pairs, counts = np.unique(s * (int(m.max()) + 1) + m, return_counts=True)  # one number per (seg, marker)
    s_of, m_of = np.divmod(pairs, int(m.max()) + 1)
    order = np.lexsort((counts, s_of))  # by seg, then by overlap: the last of each seg is its best marker
    best = np.r_[s_of[order][1:] != s_of[order][:-1], True]
    lut = np.zeros(int(seg.max()) + 1, np.int32)
    lut[s_of[order][best]] = m_of[order][best]
    return lut[seg]


def movie_from_ctc(root: str | Path, sequence: str = "01") -> TrackMovie:
    """Training data in the CTC layout: SEG masks (relabelled to track ids) where present, TRA markers elsewhere."""
    from builder.data.ctc import read_ctc_sequence

    seq = read_ctc_sequence(root, sequence)
    if seq.tra is None or not seq.tracks:
        raise DataError(str(Path(root) / f"{sequence}_GT" / "TRA"), "no tracking ground truth (man_track.txt and "
                        "man_trackTTT.tif markers) found.",
                        "Add the TRA folder of the Cell Tracking Challenge layout, or open a tracking result.")
    labels = np.asarray(seq.tra, np.int32).copy()
    for t, number in enumerate(seq.frame_numbers):
        if number in seq.seg:
            full = relabel_seg_by_markers(seq.seg[number], labels[t])
            labels[t] = np.where(full > 0, full, labels[t])
    tracks = [TrackRow(t.label, t.begin - seq.frame_numbers[0], t.end - seq.frame_numbers[0], t.parent)
              for t in seq.tracks]
    return TrackMovie(seq.frames, labels, tracks, str(Path(root) / sequence))


def read_frames(source: str | Path | Sequence[Path]) -> np.ndarray:
    """(T, Y, X, C) frames from a multi-page TIFF / OME file, a folder of one file per frame (in name order) or a
    list of frame files."""
    from builder.data.readers import is_image_file, read_image

    if not isinstance(source, (str, Path)):
        return np.stack([read_image(p).array for p in source])
    path = Path(source)
    if path.is_dir() and not path.name.endswith(".zarr"):
        files = sorted(p for p in path.iterdir() if p.is_file() and is_image_file(p))
        if not files:
            raise DataError(str(path), "no image files found.", "Choose the time-lapse the tracks were made from.")
        return np.stack([read_image(p).array for p in files])
    array = read_image(path).array
    return array if array.ndim == 4 else array[None]


def movie_from_result(result: str | Path, frames: str | Path | Sequence[Path] | np.ndarray | None = None
                      ) -> TrackMovie:
    """A tracking result folder (``res_track.txt`` + ``maskTTT.tif``) with its frames.

    ``frames``: the time-lapse (file, folder or array). Without it the frames listed in :data:`SOURCE_FILE` next
    to the result (written by ``cellwright predict``) are used, or the masks themselves when they cannot be found.
    """
    from builder.tracking.ctc_files import read_ctc_result

    folder = Path(result)
    masks, rows = read_ctc_result(folder)
    if frames is None:
        frames = _frames_named_by_predict(folder)
    if frames is None:
        image = (masks > 0).astype(np.uint8) * 255
    elif isinstance(frames, np.ndarray):
        image = frames
    else:
        image = read_frames(frames[0] if isinstance(frames, list) and len(frames) == 1 else frames)
    return TrackMovie(np.asarray(image), masks.astype(np.int32), rows, str(folder))


#: File ``cellwright predict`` writes next to ``tracks/``: the time-lapse file(s) the tracks were made from.
SOURCE_FILE = "tracked_frames.txt"


def _frames_named_by_predict(folder: Path) -> list[Path] | None:
    """The time-lapse a ``predict`` output was made from (:data:`SOURCE_FILE`), when it is still there."""
    for listing in (folder.parent / SOURCE_FILE, folder / SOURCE_FILE):
        if listing.is_file():
            names = [line.strip() for line in listing.read_text(encoding="utf-8").splitlines() if line.strip()]
            if names and all(Path(n).exists() for n in names):
                return [Path(n) for n in names]
    return None


def movie_from_arrays(frames: Sequence[np.ndarray], labels: Sequence[np.ndarray], tracks: Sequence[TrackRow]
                      ) -> TrackMovie:
    """A movie from in-memory frames and track-labelled masks (e.g. a run's evaluated test frames)."""
    stack = np.stack([np.asarray(f) if np.ndim(f) == 3 else np.asarray(f)[..., None] for f in frames])
    return TrackMovie(stack, np.stack([np.asarray(x, np.int32) for x in labels]), list(tracks), "arrays")


def run_sequences(run_dir: str | Path) -> list[str]:
    """Names of the sequences a tracking run's ``metrics.json`` has tracks of, in their order there."""
    from builder.report.run_data import load_run

    tracks = (load_run(run_dir, max_samples=0).metrics or {}).get("tracks") or []
    return list(dict.fromkeys(str(t.get("sequence") or "") for t in tracks if isinstance(t, dict)))


def _frame_of(name: str) -> int | None:
    """Frame number of an evaluation sample's name (``t045``, ``01_t045``, ``t045-2``), or None."""
    found = re.search(r"t(\d+)(?:-\d+)?$", name)
    return int(found.group(1)) if found else None


def movie_from_run(run_dir: str | Path, sequence: str | None = None
                   ) -> tuple[TrackMovie | None, list[dict[str, int]], int]:
    """The tracked test frames of a training run: (movie or None, tracks of ``sequence``, first frame).

    ``sequence``: one of :func:`run_sequences` (default: the first). Tracks are those of ``metrics.json``
    (frames counted from the start of the sequence); the movie holds the sequence's evaluated test frames
    (``evaluation/*.npz``: image and tracked prediction; ``per_image`` names each frame's sequence when there are
    several), its frames counted from 0, so frame ``f`` of a track is movie frame ``f - first``. The movie is
    None when the run saved no frames.
    """
    from builder.report.run_data import load_run

    run = load_run(run_dir, max_samples=0)
    tracks = [t for t in (run.metrics or {}).get("tracks") or [] if isinstance(t, dict)]
    if not tracks:
        raise DataError(str(run_dir), "this run has no tracks (it is not a tracking run, or it was not evaluated).",
                        "Choose a finished tracking run.")
    names = list(dict.fromkeys(str(t.get("sequence") or "") for t in tracks))
    if sequence is None:
        sequence = names[0]
    elif str(sequence) not in names:
        raise DataError(str(run_dir), f"Expected one of the run's sequences {names}. Received: {sequence!r}.",
                        "Choose a sequence from the list.")
    tracks = [{k: int(t.get(k) or 0) for k in ("label", "begin", "end", "parent")} for t in tracks
              if str(t.get("sequence") or "") == str(sequence)]
    per_image = [r for r in (run.metrics or {}).get("per_image") or [] if isinstance(r, dict)]
    grouped = {str(r.get("name")) for r in per_image if str(r.get("group", "")) == str(sequence)}
    samples = sorted(load_run(run_dir, max_samples=10_000).evaluation, key=lambda s: s.name)
    if len(names) > 1 and grouped:  # several sequences: the frames per_image names as this one's
        samples = [s for s in samples if s.name in grouped]
    numbers = [n for s in samples[:1] if (n := _frame_of(s.name)) is not None]
    first = numbers[0] if numbers else min(t["begin"] for t in tracks)
    samples = samples[: max(t["end"] for t in tracks) - first + 1]
    if not samples or any("prediction" not in s.arrays or "image" not in s.arrays for s in samples):
        return None, tracks, first
    rows = [TrackRow(t["label"], t["begin"] - first, t["end"] - first, t["parent"]) for t in tracks]
    movie = movie_from_arrays([s.arrays["image"] for s in samples], [s.arrays["prediction"] for s in samples], rows)
    movie.source = str(run_dir) if len(names) == 1 else f"{run_dir} ({sequence})"
    return movie, tracks, first

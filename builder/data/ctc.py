"""Reader for the Cell Tracking Challenge (CTC) layout, used by tracking.

Layout of one sequence ``01``::

    01/t000.tif, t001.tif, ...                 frames (2D)
    01_GT/TRA/man_track.txt                   lineage: "label begin end parent" per line (parent 0 = none)
    01_GT/TRA/man_track000.tif, ...           tracking markers (labels = track ids)
    01_GT/SEG/man_seg000.tif, ...             full segmentation of some frames (labels per frame)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from builder.data.readers import read_image
from builder.errors import DataError

_FRAME = re.compile(r"^(?:t|man_track|man_seg)(\d+)\.tiff?$", re.IGNORECASE)


@dataclass
class Track:
    """One track of the lineage: ``label`` present from frame ``begin`` to ``end`` (inclusive); ``parent`` 0=none."""

    label: int
    begin: int
    end: int
    parent: int = 0


@dataclass
class CTCSequence:
    """A time-lapse with its ground truth.

    Attributes
    ----------
    frames : (T, Y, X, C) ndarray
    frame_numbers : list of int
        Frame index of each of ``frames`` (from the file names).
    tracks : list of Track
        Empty when there is no ``man_track.txt``.
    tra : (T, Y, X) int32 ndarray or None
        Tracking markers per frame (track labels).
    seg : dict of int to (Y, X) int32 ndarray
        Full segmentations of the annotated frames, keyed by frame number.
    """

    frames: np.ndarray
    frame_numbers: list[int]
    tracks: list[Track] = field(default_factory=list)
    tra: np.ndarray | None = None
    seg: dict[int, np.ndarray] = field(default_factory=dict)
    pixel_size: float | None = None

    def parent_of(self) -> dict[int, int]:
        """Map each track label to its parent label (0 = none)."""
        return {t.label: t.parent for t in self.tracks}


def read_man_track(path: str | Path) -> list[Track]:
    """Read a CTC ``man_track.txt`` (``label begin end parent`` per line)."""
    path = Path(path)
    tracks = []
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4 or not all(p.lstrip("-").isdigit() for p in parts):
            raise DataError(f"{path}:{i}", f"expected 4 whole numbers 'label begin end parent', got {line!r}.",
                            "Fix the line; see the Cell Tracking Challenge format description.")
        label, begin, end, parent = (int(p) for p in parts)
        if end < begin:
            raise DataError(f"{path}:{i}", f"track {label} ends (frame {end}) before it begins (frame {begin}).",
                            "Swap or fix the begin and end frames.")
        tracks.append(Track(label, begin, end, parent))
    return tracks


def _numbered(folder: Path, prefix: str) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    out = {}
    for p in folder.iterdir():
        m = _FRAME.match(p.name)
        if m and p.name.lower().startswith(prefix):
            out[int(m.group(1))] = p
    return dict(sorted(out.items()))


def read_ctc_sequence(root: str | Path, sequence: str = "01", *, load_gt: bool = True) -> CTCSequence:
    """Read one sequence of a CTC data set.

    Parameters
    ----------
    root : str or Path
        Folder that holds ``01/``, ``01_GT/`` ...
    sequence : str
        Sequence name, e.g. ``"01"``.
    load_gt : bool
        Also read ``man_track.txt``, TRA markers and SEG masks when present.

    Raises
    ------
    DataError
        If the sequence folder or its frames are missing, or frame sizes differ.
    """
    root = Path(root)
    frame_dir = root / sequence
    frames = _numbered(frame_dir, "t")
    if not frames:
        raise DataError(str(frame_dir), "no frames named t000.tif, t001.tif, ... found.",
                        "Put the frames of the time-lapse in this folder with CTC names (t000.tif, ...).")
    images = [read_image(p) for p in frames.values()]
    shapes = {im.array.shape for im in images}
    if len(shapes) != 1:
        raise DataError(str(frame_dir), f"frames have different shapes {sorted(shapes)}.",
                        "All frames of a time-lapse must have the same size and channels.")
    seq = CTCSequence(np.stack([im.array for im in images]), list(frames), pixel_size=images[0].pixel_size)
    if not load_gt:
        return seq
    gt = root / f"{sequence}_GT"
    track_file = gt / "TRA" / "man_track.txt"
    if track_file.is_file():
        seq.tracks = read_man_track(track_file)
    markers = _numbered(gt / "TRA", "man_track")
    if markers:
        tra = np.zeros(seq.frames.shape[:3], np.int32)
        for t, number in enumerate(seq.frame_numbers):
            if number in markers:
                tra[t] = read_image(markers[number]).array[..., 0]
        seq.tra = tra
    for number, path in _numbered(gt / "SEG", "man_seg").items():
        seq.seg[number] = read_image(path).array[..., 0].astype(np.int32)
    return seq

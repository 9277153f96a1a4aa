"""Ground-truth helpers: a time window of a reference sequence (held-out frames) and CTC reference folders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from builder.tracking.lineage import TrackRow


def crop_tracks(tracks: Sequence[TrackRow], start: int, stop: int) -> list[TrackRow]:
    """Tracks of frames ``start`` to ``stop - 1``, renumbered from 0; a parent outside the window becomes 0."""
    kept = {r.label: r for r in tracks if r.begin < stop and r.end >= start}
    out = []
    for r in kept.values():
        parent = r.parent if r.parent in kept and r.begin >= start else 0
        out.append(TrackRow(r.label, max(r.begin, start) - start, min(r.end, stop - 1) - start, parent))
    return sorted(out)


def write_reference(folder: str | Path, tra: np.ndarray, tracks: Sequence[TrackRow],
                    seg: Mapping[int, np.ndarray] | None = None) -> Path:
    """Write a CTC ground-truth folder (``TRA/man_trackTTT.tif``, ``TRA/man_track.txt``, ``SEG/man_segTTT.tif``)."""
    import tifffile

    folder = Path(folder)
    (folder / "TRA").mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(len(tra) - 1)))
    for t, frame in enumerate(np.asarray(tra)):
        tifffile.imwrite(folder / "TRA" / f"man_track{t:0{width}d}.tif", frame.astype(np.uint16))
    (folder / "TRA" / "man_track.txt").write_text("".join(f"{r.label} {r.begin} {r.end} {r.parent}\n"
                                                          for r in sorted(tracks)))
    if seg:
        (folder / "SEG").mkdir(exist_ok=True)
        for t, frame in seg.items():
            tifffile.imwrite(folder / "SEG" / f"man_seg{t:0{width}d}.tif", np.asarray(frame).astype(np.uint16))
    return folder

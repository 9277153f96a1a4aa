"""Cell Tracking Challenge result files: ``res_track.txt`` and ``maskTTT.tif`` (writer and reader).

``maskTTT.tif``: one uint16 label image per frame from ``mask000.tif``, even when empty; a label is present in
every frame from its start to its end. ``res_track.txt``: ``L B E P`` per track (label, first and last frame,
parent label or 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from builder.errors import DataError
from builder.tracking.lineage import TrackRow


def mask_name(t: int, n_frames: int) -> str:
    """``mask007.tif`` (three digits, four when the sequence has over 1000 frames), as the CTC tools expect."""
    return f"mask{t:0{max(3, len(str(n_frames - 1)))}d}.tif"


def write_ctc_result(out_dir: str | Path, masks: np.ndarray, tracks: list[TrackRow]) -> list[Path]:
    """Write ``res_track.txt`` and one ``maskTTT.tif`` per frame into ``out_dir``; return the written paths."""
    import tifffile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"`masks` must be (T, Y, X). Received: shape={masks.shape}")
    written = []
    for t in range(len(masks)):
        path = out / mask_name(t, len(masks))
        tifffile.imwrite(path, masks[t].astype(np.uint16), compression="zlib")
        written.append(path)
    lines = [f"{r.label} {r.begin} {r.end} {r.parent}" for r in sorted(tracks, key=lambda r: r.label)]
    track_file = out / "res_track.txt"
    track_file.write_text("\n".join(lines) + ("\n" if lines else ""))
    return [*written, track_file]


def read_ctc_result(folder: str | Path) -> tuple[np.ndarray, list[TrackRow]]:
    """Read ``maskTTT.tif`` files and ``res_track.txt`` from ``folder`` (the writer's inverse)."""
    import tifffile

    from builder.data.ctc import read_man_track

    folder = Path(folder)
    paths = sorted(folder.glob("mask*.tif"), key=lambda p: int(p.stem[4:]) if p.stem[4:].isdigit() else -1)
    paths = [p for p in paths if p.stem[4:].isdigit()]
    if not paths or not (folder / "res_track.txt").is_file():
        raise DataError(str(folder), "Expected CTC result files mask000.tif ... and res_track.txt.",
                        "Give the folder written by `cellwright predict` for a time-lapse.")
    masks = np.stack([tifffile.imread(p) for p in paths])
    rows = [TrackRow(t.label, t.begin, t.end, t.parent) for t in read_man_track(folder / "res_track.txt")]
    return masks, rows

"""What the data doctor says about a Cell Tracking Challenge data set: frames, tracks and divisions per sequence.

Reads only file names and ``man_track.txt`` (no images), so it is instant on long 1024² sequences.
"""

from __future__ import annotations

import re
from pathlib import Path

from builder.errors import DataError, Problem

_NUMBERED = re.compile(r"^(t|man_track|man_seg)(\d+)\.tiff?$", re.IGNORECASE)


def _frames(folder: Path, prefix: str) -> set[int]:
    if not folder.is_dir():
        return set()
    found = ((m, p) for p in folder.iterdir() if (m := _NUMBERED.match(p.name)))
    return {int(m.group(2)) for m, _p in found if m.group(1).lower() == prefix}


def ctc_findings(root: str | Path) -> list[Problem]:
    """One ``info`` line per sequence (frames, tracks, divisions, annotated frames) and warnings for gaps."""
    from builder.data.ctc import read_man_track

    root = Path(root)
    if not root.is_dir():
        return []
    out: list[Problem] = []
    for seq in sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d+", p.name)):
        frames = _frames(seq, "t")
        gt = root / f"{seq.name}_GT"
        markers, seg = _frames(gt / "TRA", "man_track"), _frames(gt / "SEG", "man_seg")
        track_file = gt / "TRA" / "man_track.txt"
        if not track_file.is_file():
            out.append(Problem(str(track_file), f"sequence {seq.name} ({len(frames)} frames) has no tracking ground "
                               "truth, so its tracks cannot be scored.",
                               "Add the TRA folder (man_track.txt and man_trackTTT.tif markers) of the Cell Tracking "
                               "Challenge layout.", "warning"))
            continue
        try:
            tracks = read_man_track(track_file)
        except DataError as error:
            out.append(Problem(error.where, error.what, error.fix, "error"))
            continue
        daughters: dict[int, int] = {}
        for track in tracks:
            if track.parent:
                daughters[track.parent] = daughters.get(track.parent, 0) + 1
        divisions = sum(1 for n in daughters.values() if n >= 2)
        out.append(Problem(str(seq), f"Time-lapse {seq.name}: {len(frames)} frames, {len(tracks)} tracks, {divisions} "
                           f"division(s); tracking markers on {len(markers & frames)} frames, full segmentations "
                           f"on {len(seg & frames)}.", "", "info"))
        missing = sorted(frames - markers)
        if missing:
            shown = ", ".join(str(n) for n in missing[:5]) + (" ..." if len(missing) > 5 else "")
            out.append(Problem(str(gt / "TRA"), f"{len(missing)} frame(s) of sequence {seq.name} have no tracking "
                               f"markers (frames {shown}).",
                               "Add man_trackTTT.tif for every frame; frames without markers cannot be scored.",
                               "warning"))
        last = max(frames, default=-1)
        outside = [t.label for t in tracks if t.end > last]
        if outside:
            out.append(Problem(str(track_file), f"{len(outside)} track(s) end after the last frame ({last}), e.g. "
                               f"track {outside[0]}.", "Check man_track.txt against the frames in the folder.",
                               "warning"))
    return out

"""Synthetic fluorescent-nuclei time-lapse with ground-truth lineage (the ``timelapse`` demo kind).

Cells move with persistent random motion and push each other apart, grow, round up and divide into two daughters,
enter through the image border, leave it, and sometimes die (shrink, brighten, vanish). The result is written in the
Cell Tracking Challenge layout: ``01/tNNN.tif`` images, ``01_GT/TRA/man_trackNNN.tif`` label images whose values are
track ids, ``01_GT/TRA/man_track.txt`` with one line ``L B E P`` per track (label, first frame, last frame, parent
label or 0), and ``01_GT/SEG/man_segNNN.tif`` full segmentations for some frames. :func:`check_ctc_sequence` checks
that such a folder is consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builder.data.demo_draw import Blob, camera, random_blob, smooth_field, write_tiff
from builder.data.demo_nuclei import render_fluorescence

__all__ = ["check_ctc_sequence", "simulate_timelapse", "write_ctc"]

MIN_AREA = 12  # pixels: a cell smaller than this in a frame is not annotated there (it is entering or leaving)


@dataclass
class _Cell:
    uid: int
    blob: Blob
    vy: float
    vx: float
    divide_at: int  # frame at which it divides
    parent: int = 0  # uid of the mother, 0 if none
    born: int = 0
    dies_at: int = -1  # frame at which it is gone (dying cells shrink before), -1 if never


def _new_cell(rng: np.random.Generator, uid: int, cy: float, cx: float, t: int, n_frames: int, *,
              radius: float | None = None, parent: int = 0) -> _Cell:
    blob = random_blob(rng, cy, cx, radius or rng.uniform(5.5, 7.5), rng.uniform(1.1, 1.7),
                       brightness=float(rng.lognormal(0.0, 0.25)), irregularity=0.04, texture=0.1,
                       n_spots=int(rng.poisson(3)), spot_amplitude=0.3)
    return _Cell(uid, blob, rng.normal(0, 0.8), rng.normal(0, 0.8), t + int(rng.integers(12, 40)), parent, t)


def _entering(rng: np.random.Generator, uid: int, shape: tuple[int, int], t: int, n_frames: int) -> _Cell:
    h, w = shape
    side = int(rng.integers(4))
    pos = rng.uniform(0.15, 0.85)
    cy, cx, vy, vx = [(-4.0, pos * w, 1, 0), (h + 3.0, pos * w, -1, 0), (pos * h, -4.0, 0, 1),
                      (pos * h, w + 3.0, 0, -1)][side]
    cell = _new_cell(rng, uid, cy, cx, t, n_frames)
    speed = rng.uniform(1.8, 2.8)
    cell.vy, cell.vx = vy * speed + rng.normal(0, 0.3), vx * speed + rng.normal(0, 0.3)
    return cell


def _divide(rng: np.random.Generator, cell: _Cell, next_uid: int, t: int, n_frames: int) -> list[_Cell]:
    b = cell.blob
    r = np.sqrt(b.a * b.b) / np.sqrt(2.0) * 1.1
    angle = rng.uniform(0, np.pi)
    daughters = []
    for k, sign in enumerate((-1.0, 1.0)):
        d = _new_cell(rng, next_uid + k, b.cy + sign * 1.1 * r * np.sin(angle), b.cx + sign * 1.1 * r * np.cos(angle),
                      t, n_frames, radius=r, parent=cell.uid)
        d.blob.theta = angle + np.pi / 2
        d.blob.brightness = b.brightness * 1.3
        d.vy, d.vx = cell.vy + sign * 0.8 * np.sin(angle), cell.vx + sign * 0.8 * np.cos(angle)
        d.divide_at = t + int(rng.integers(max(8, n_frames // 2), max(9, 2 * n_frames)))
        daughters.append(d)
    return daughters


def _step(rng: np.random.Generator, cells: list[_Cell], shape: tuple[int, int], t: int) -> None:
    """Move, turn, grow and round up cells; push overlapping cells apart."""
    pos = np.array([[c.blob.cy, c.blob.cx] for c in cells])
    rad = np.array([np.sqrt(c.blob.a * c.blob.b) for c in cells])
    for i, c in enumerate(cells):
        push = np.zeros(2)
        for j in range(len(cells)):
            if i == j:
                continue
            d = pos[i] - pos[j]
            dist = np.hypot(*d) + 1e-6
            gap = 1.1 * (rad[i] + rad[j]) - dist
            if gap > 0:
                push += 0.5 * gap * d / dist
        c.vy = 0.8 * c.vy + rng.normal(0, 0.5)
        c.vx = 0.8 * c.vx + rng.normal(0, 0.5)
        b = c.blob
        b.cy += c.vy + push[0]
        b.cx += c.vx + push[1]
        b.theta += rng.normal(0, 0.06)
        if c.dies_at >= 0 and t >= c.dies_at - 3:  # apoptosis: shrink and brighten
            b.a, b.b, b.brightness = b.a * 0.8, b.b * 0.8, b.brightness * 1.25
        elif t >= c.divide_at - 2:  # mitotic rounding
            m = np.sqrt(b.a * b.b)
            b.a, b.b, b.brightness = 0.5 * (b.a + m), 0.5 * (b.b + m), b.brightness * 1.2
        else:
            b.a, b.b = b.a * 1.012, b.b * 1.012


def simulate_timelapse(rng: np.random.Generator, shape: tuple[int, int], n_frames: int) -> tuple[
        np.ndarray, np.ndarray, dict[int, int]]:
    """Simulate cells; return images (T,Y,X uint16), labels by cell uid (T,Y,X uint16) and uid -> mother uid.

    At least one division, one cell entering and one cell dying happen when ``n_frames`` allows (>= 6 frames).
    """
    h, w = shape
    n0 = max(2, int(round(rng.uniform(7, 11) * h * w / 128**2)))
    cells: list[_Cell] = []
    uid = 1
    while len(cells) < n0 and uid < 50 * n0:
        cy, cx = rng.uniform(8, h - 8), rng.uniform(8, w - 8)
        if all(np.hypot(c.blob.cy - cy, c.blob.cx - cx) > 16 for c in cells):
            cells.append(_new_cell(rng, len(cells) + 1, cy, cx, 0, n_frames))
        uid += 1
    uid = len(cells) + 1
    if n_frames >= 6:  # make sure every event happens at least once
        central = min(cells, key=lambda c: np.hypot(c.blob.cy - h / 2, c.blob.cx - w / 2))
        central.divide_at = max(2, n_frames // 3)
        others = [c for c in cells if c is not central]
        if others:
            others[0].dies_at = max(4, 2 * n_frames // 3)
    force_entry = n_frames // 2 if n_frames >= 6 else -1
    parents: dict[int, int] = {}
    background = 1.0 + 0.25 * smooth_field(shape, rng, max(shape) / 1.5)
    images = np.zeros((n_frames, h, w), np.uint16)
    labels = np.zeros((n_frames, h, w), np.uint16)
    peak, bg = rng.uniform(60, 140), rng.uniform(8, 18)
    for t in range(n_frames):
        if t > 0:
            _step(rng, cells, shape, t)
            born: list[_Cell] = []
            for c in cells:
                if c.divide_at == t and c.dies_at < 0:
                    born.extend(_divide(rng, c, uid, t, n_frames))
                    uid += 2
            cells = [c for c in cells if not (c.divide_at == t and c.dies_at < 0)]
            cells = [c for c in cells if c.dies_at != t] + born
            if t == force_entry or rng.random() < 0.12:
                cells.append(_entering(rng, uid, shape, t, n_frames))
                uid += 1
            if rng.random() < 0.02 and cells:
                victim = cells[int(rng.integers(len(cells)))]
                if victim.dies_at < 0:
                    victim.dies_at = t + 4
            margin = 12.0
            cells = [c for c in cells if -margin < c.blob.cy < h + margin and -margin < c.blob.cx < w + margin]
        for c in cells:
            if c.parent:
                parents[c.uid] = c.parent
        photons, lab = render_fluorescence(rng, shape, [c.blob for c in cells], peak_photons=peak,
                                           background_photons=bg, ids=[c.uid for c in cells],
                                           background=background)
        images[t] = camera(photons, rng, gain=2.0, offset=100.0, read_noise=3.0)
        labels[t] = lab
    return images, labels, parents


def _tracks(labels: np.ndarray, parents: dict[int, int]) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Turn per-uid labels into CTC track labels and ``(L, B, E, P)`` rows.

    A cell is annotated in a frame only if it shows at least :data:`MIN_AREA` pixels there. A cell whose visible
    frames have a gap (it left and came back) gets a new track for each run of frames, without a parent.
    """
    n_frames = labels.shape[0]
    present: dict[int, list[int]] = {}
    tra = np.zeros_like(labels)
    for t in range(n_frames):
        counts = np.bincount(labels[t].ravel())
        for u in np.nonzero(counts)[0][1:]:
            if counts[u] >= MIN_AREA:
                present.setdefault(int(u), []).append(t)
    rows: list[tuple[int, int, int, int]] = []
    last_track: dict[int, tuple[int, int]] = {}  # uid -> (track label, end frame) of its last run
    runs: list[tuple[int, int, int]] = []
    for u, frames in present.items():
        start = frames[0]
        for a, b in zip(frames, [*frames[1:], None], strict=True):
            if b is None or b != a + 1:
                runs.append((start, u, a))
                if b is not None:
                    start = b
    for start, u, end in sorted(runs):
        label = len(rows) + 1
        parent = 0
        mother = parents.get(u, 0)
        if mother in last_track and last_track[mother][1] == start - 1 and start == present[u][0]:
            parent = last_track[mother][0]
        rows.append((label, start, end, parent))
        last_track[u] = (label, end)
        for t in range(start, end + 1):
            tra[t][labels[t] == u] = label
    return tra, rows


def write_ctc(out_dir: Path, images: np.ndarray, labels: np.ndarray, parents: dict[int, int], *,
              pixel_size_um: float, seg_every: int = 5) -> list[tuple[int, int, int, int]]:
    """Write sequence ``01`` in the Cell Tracking Challenge layout under ``out_dir``; return the track rows."""
    tra, rows = _tracks(labels, parents)
    digits = max(3, len(str(len(images) - 1)))
    for t in range(len(images)):
        write_tiff(out_dir / "01" / f"t{t:0{digits}d}.tif", images[t], pixel_size_um)
        write_tiff(out_dir / "01_GT" / "TRA" / f"man_track{t:0{digits}d}.tif", tra[t], pixel_size_um)
        if t % seg_every == 0:
            write_tiff(out_dir / "01_GT" / "SEG" / f"man_seg{t:0{digits}d}.tif", tra[t], pixel_size_um)
    text = "".join(f"{label} {b} {e} {p}\n" for label, b, e, p in rows)
    (out_dir / "01_GT" / "TRA" / "man_track.txt").write_text(text)
    return rows


def check_ctc_sequence(root: Path, sequence: str = "01") -> list[str]:
    """Check a Cell Tracking Challenge sequence folder; return a list of problems (empty when consistent).

    Checks: one TRA mask per image, same shapes; every label in the TRA masks is in ``man_track.txt`` and every line
    of ``man_track.txt`` has its label in exactly the frames B..E (no gaps); each parent exists, ends before its
    child begins and has at most two children; SEG masks (if any) match image frames and shapes.
    """
    import tifffile

    root = Path(root)
    problems: list[str] = []
    images = sorted((root / sequence).glob("t*.tif"))
    tra_dir = root / f"{sequence}_GT" / "TRA"
    masks = sorted(tra_dir.glob("man_track*.tif"))
    track_file = tra_dir / "man_track.txt"
    if not images or not masks or not track_file.exists():
        return [f"{root}: missing images, TRA masks or {track_file.name}"]
    if len(images) != len(masks):
        problems.append(f"{len(images)} images but {len(masks)} TRA masks")
    rows: dict[int, tuple[int, int, int]] = {}
    for n, line in enumerate(track_file.read_text().splitlines(), 1):
        parts = line.split()
        if len(parts) != 4 or not all(p.lstrip("-").isdigit() for p in parts):
            problems.append(f"{track_file.name} line {n}: expected 'L B E P' integers, found {line!r}")
            continue
        label, b, e, p = map(int, parts)
        if label in rows:
            problems.append(f"{track_file.name} line {n}: label {label} listed twice")
        rows[label] = (b, e, p)
    seen: dict[int, list[int]] = {}
    shape = None
    for mask_path in masks:
        t = int(mask_path.stem.removeprefix("man_track"))
        mask = tifffile.imread(mask_path)
        shape = shape or mask.shape
        if mask.shape != shape:
            problems.append(f"{mask_path.name}: shape {mask.shape}, expected {shape}")
        for label in np.unique(mask)[1:]:
            seen.setdefault(int(label), []).append(t)
    for label, frames in sorted(seen.items()):
        if label not in rows:
            problems.append(f"label {label} is in the TRA masks (frames {frames}) but not in {track_file.name}")
            continue
        b, e, _ = rows[label]
        if frames != list(range(b, e + 1)):
            problems.append(f"label {label}: {track_file.name} says frames {b}..{e}, masks have it in {frames}")
    children: dict[int, int] = {}
    for label, (b, e, p) in sorted(rows.items()):
        if label not in seen:
            problems.append(f"label {label} is in {track_file.name} but in no TRA mask")
        if e < b:
            problems.append(f"label {label}: ends (frame {e}) before it begins (frame {b})")
        if p:
            if p not in rows:
                problems.append(f"label {label}: parent {p} is not a track")
            elif rows[p][1] >= b:
                problems.append(f"label {label}: parent {p} ends at frame {rows[p][1]}, not before {b}")
            children[p] = children.get(p, 0) + 1
    problems += [f"label {p} has {n} daughters (at most 2)" for p, n in children.items() if n > 2]
    for seg in sorted((root / f"{sequence}_GT" / "SEG").glob("man_seg*.tif")):
        t = int(seg.stem.removeprefix("man_seg"))
        if t >= len(images):
            problems.append(f"{seg.name}: frame {t} has no image")
        elif shape is not None and tifffile.imread(seg).shape != shape:
            problems.append(f"{seg.name}: shape differs from the TRA masks {shape}")
    return problems

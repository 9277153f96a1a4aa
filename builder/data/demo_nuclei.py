"""Synthetic fluorescent nuclei with instance masks (the ``nuclei`` demo kind).

Nuclei are irregular ellipses of varied size, orientation and brightness; some carry chromatin texture and bright
chromocentres, a few are small, bright, condensed (mitotic-like). About half are placed next to another nucleus so
clusters form: most neighbours touch along a shared border, some overlap (their signals add up, the upper one owns
the overlap in the mask). The image has an uneven background, light scattered around bright clusters, a Gaussian
point-spread function and camera noise (Poisson + Gaussian).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from builder.data.demo_draw import Blob, blob_radius, blur, camera, random_blob, render_blobs, smooth_field

__all__ = ["place_nuclei", "make_nuclei_image"]


def _nucleus(rng: np.random.Generator, cy: float, cx: float, radius: float) -> Blob:
    if rng.random() < 0.06:  # condensed, bright, small (mitotic-like)
        blob = random_blob(
            rng, cy, cx, radius * 0.72, rng.uniform(1.0, 1.6),
            brightness=rng.uniform(1.8, 2.6), irregularity=0.1, texture=0.25, n_spots=int(rng.integers(2, 6)),
            spot_amplitude=0.6,
        )
        blob.edge = 0.6
        return blob
    textured = rng.random() < 0.6
    return random_blob(
        rng, cy, cx, radius, rng.uniform(1.0, 1.9),
        brightness=float(rng.lognormal(0.0, 0.3)),
        irregularity=rng.uniform(0.02, 0.08),
        texture=rng.uniform(0.06, 0.16) if textured else rng.uniform(0.0, 0.04),
        n_spots=int(rng.poisson(4)) if textured else 0,
        spot_amplitude=0.3,
    )


def place_nuclei(
    rng: np.random.Generator, shape: tuple[int, int], *, mean_radius: float, fill: float
) -> tuple[list[Blob], set[tuple[int, int]]]:
    """Choose nuclei for one image: a list of blobs and the index pairs that overlap (see ``render_blobs``)."""
    h, w = shape
    radii: list[float] = []
    blobs: list[Blob] = []
    overlaps: set[tuple[int, int]] = set()
    target_area = fill * h * w
    area = 0.0
    for _ in range(60 * int(target_area / (np.pi * mean_radius**2) + 1)):
        if area >= target_area:
            break
        r = float(np.clip(mean_radius * rng.lognormal(0.0, 0.2), 3.0, 3.0 * mean_radius))
        partner, overlap = -1, False
        if blobs and rng.random() < 0.5:
            partner = int(rng.integers(len(blobs)))
            overlap = rng.random() < 0.3
            factor = rng.uniform(0.62, 0.78) if overlap else rng.uniform(0.82, 0.98)
            angle = rng.uniform(0, 2 * np.pi)
            dist = factor * (radii[partner] + r)
            cy = blobs[partner].cy + dist * np.sin(angle)
            cx = blobs[partner].cx + dist * np.cos(angle)
        else:
            cy, cx = rng.uniform(-0.4 * r, h + 0.4 * r), rng.uniform(-0.4 * r, w + 0.4 * r)
        if not (-0.4 * r <= cy <= h + 0.4 * r and -0.4 * r <= cx <= w + 0.4 * r):
            continue
        too_close = any(
            j != partner and np.hypot(b.cy - cy, b.cx - cx) < 1.05 * (rj + r)
            for j, (b, rj) in enumerate(zip(blobs, radii, strict=True))
        )
        if too_close:
            continue
        if overlap:
            overlaps.add((partner, len(blobs)))
        blobs.append(_nucleus(rng, cy, cx, r))
        radii.append(r)
        area += np.pi * r * r
    return blobs, overlaps


def _keep_clean(
    shape: tuple[int, int], blobs: list[Blob], overlaps: set[tuple[int, int]]
) -> tuple[list[Blob], set[tuple[int, int]]]:
    """Drop nuclei that end up mostly hidden, split in pieces or tiny, until every label is a sound instance."""
    for _ in range(10):
        _, labels = render_blobs(shape, blobs, overlap_pairs=overlaps)
        counts = np.bincount(labels.ravel(), minlength=len(blobs) + 1)
        bad = set()
        slices = ndi.find_objects(labels.astype(np.int32), max_label=len(blobs))
        for i, blob in enumerate(blobs):
            full = _own_area(shape, blob)
            if counts[i + 1] < max(12, 0.55 * full):
                bad.add(i)
                continue
            sl = slices[i]
            if sl is not None and ndi.label(labels[sl] == i + 1)[1] != 1:
                bad.add(i)
        if not bad:
            break
        keep = [i for i in range(len(blobs)) if i not in bad]
        index = {old: new for new, old in enumerate(keep)}
        blobs = [blobs[i] for i in keep]
        overlaps = {(index[i], index[j]) for i, j in overlaps if i in index and j in index}
    return blobs, overlaps


def _own_area(shape: tuple[int, int], blob: Blob) -> int:
    e = blob.extent
    y0, y1 = max(int(np.floor(blob.cy - e)), 0), min(int(np.ceil(blob.cy + e)) + 1, shape[0])
    x0, x1 = max(int(np.floor(blob.cx - e)), 0), min(int(np.ceil(blob.cx + e)) + 1, shape[1])
    if y1 <= y0 or x1 <= x0:
        return 0
    return int((blob_radius(blob, (slice(y0, y1), slice(x0, x1))) < 1.0).sum())


def render_fluorescence(
    rng: np.random.Generator,
    shape: tuple[int, int],
    blobs: list[Blob],
    overlaps: set[tuple[int, int]] | frozenset = frozenset(),
    *,
    peak_photons: float,
    background_photons: float,
    ids: list[int] | None = None,
    background: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected photon image (float64, before noise) and instance labels for nuclei ``blobs``."""
    signal, labels = render_blobs(shape, blobs, overlap_pairs=overlaps, ids=ids)
    signal = blur(signal, 1.0)
    haze = blur(signal, 6.0)
    if background is None:
        background = 1.0 + 0.3 * smooth_field(shape, rng, max(shape) / 1.5)
    photons = background_photons * np.clip(background, 0.3, None) + peak_photons * (signal + 0.12 * haze)
    return photons, labels


def make_nuclei_image(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One fluorescent nuclei image (Y,X uint16) and its instance labels (Y,X uint16, 0 = background)."""
    mean_radius = rng.uniform(5.5, 8.0)
    blobs, overlaps = place_nuclei(rng, shape, mean_radius=mean_radius, fill=rng.uniform(0.22, 0.38))
    blobs, overlaps = _keep_clean(shape, blobs, overlaps)
    photons, labels = render_fluorescence(
        rng, shape, blobs, overlaps, peak_photons=rng.uniform(50, 140), background_photons=rng.uniform(8, 20)
    )
    image = camera(photons, rng, gain=2.0, offset=100.0, read_noise=3.0)
    return image, labels

"""Synthetic single-cell crops of three classes (the ``cells`` demo kind).

Each crop shows one cell near the centre (with, sometimes, a piece of a neighbour at the border), stained with a
cytoplasmic fluorescent dye, on an uneven background with camera noise. The classes differ in shape and texture
while their sizes and brightness overlap, so a classifier has to look at more than the mean intensity:

- ``round``: round or slightly oval cell, smooth cytoplasm, a dimmer nucleus region;
- ``elongated``: spindle-shaped cell (axis ratio 2.2-4) with fibres along its long axis;
- ``granular``: round-ish cell full of small bright granules.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from builder.data.demo_draw import Blob, blur, camera, random_blob, render_blobs, smooth_field

__all__ = ["CELL_CLASSES", "make_cell_crop"]

#: Class name -> one-line description (also written into the README).
CELL_CLASSES: dict[str, str] = {
    "round": "round or slightly oval cells with smooth cytoplasm and a dimmer nucleus",
    "elongated": "spindle-shaped cells (axis ratio 2.2-4) with fibres along the long axis",
    "granular": "round-ish cells whose cytoplasm is full of small bright granules",
}


def _fibres(rng: np.random.Generator, shape: tuple[int, int], theta: float) -> np.ndarray:
    """Oriented fibre texture (mean 0, std 1): noise smoothed much more along ``theta`` than across it."""
    noise = rng.normal(size=shape)
    long = ndi.gaussian_filter(noise, (0.8, 6.0))  # smooth along x, then turn x onto theta
    turned = ndi.rotate(long, np.degrees(-theta), reshape=False, mode="reflect", order=1)
    turned -= turned.mean()
    return turned / (turned.std() + 1e-12)


def _cell(rng: np.random.Generator, name: str, cy: float, cx: float, size: int) -> tuple[Blob, Blob]:
    """The cell body and its nucleus."""
    scale = size / 64.0
    if name == "elongated":
        body = random_blob(rng, cy, cx, rng.uniform(10, 15) * scale, rng.uniform(2.2, 4.0), irregularity=0.05)
    else:
        body = random_blob(rng, cy, cx, rng.uniform(11, 17) * scale, rng.uniform(1.0, 1.35), irregularity=0.05)
    body.texture = 0.05
    body.edge = 1.0
    body.brightness = float(rng.lognormal(0.0, 0.25))
    off = rng.uniform(0, 0.3)
    ang = rng.uniform(0, 2 * np.pi)
    nuc_aspect = min(body.a / body.b, 2.0) if name == "elongated" else rng.uniform(1.0, 1.3)
    nucleus = random_blob(
        rng, cy + off * body.b * np.sin(ang), cx + off * body.b * np.cos(ang),
        0.42 * np.sqrt(body.a * body.b), nuc_aspect, irregularity=0.03, texture=0.0,
    )
    if name == "elongated":
        nucleus.theta = body.theta
    return body, nucleus


def make_cell_crop(rng: np.random.Generator, name: str, size: int = 64) -> np.ndarray:
    """One grey crop (size x size, uint16) of a cell of class ``name`` (a key of :data:`CELL_CLASSES`)."""
    if name not in CELL_CLASSES:
        raise ValueError(f"Unknown cell class {name!r}; expected one of {sorted(CELL_CLASSES)}")
    shape = (size, size)
    c = size / 2.0
    body, nucleus = _cell(rng, name, c + rng.normal(0, size / 20), c + rng.normal(0, size / 20), size)
    cells = [body]
    if rng.random() < 0.4:  # a neighbour cut by the border
        ang = rng.uniform(0, 2 * np.pi)
        other_name = str(rng.choice(list(CELL_CLASSES)))
        cells.append(_cell(rng, other_name, c + 0.75 * size * np.sin(ang), c + 0.75 * size * np.cos(ang), size)[0])
    signal, labels = render_blobs(shape, cells)
    body_signal, _ = render_blobs(shape, [body])
    nuc_signal, _ = render_blobs(shape, [nucleus])
    inside = labels == 1
    if name == "elongated":
        signal *= 1.0 + 0.35 * _fibres(rng, shape, body.theta) * inside
    elif name == "granular":
        n = int(rng.integers(12, 30))
        granules = np.zeros(shape)
        ys, xs = np.nonzero(inside & (nuc_signal < 0.5))
        if len(ys):
            pick = rng.integers(len(ys), size=n)
            granules[ys[pick], xs[pick]] = rng.uniform(0.8, 2.2, n)
            signal += body.brightness * ndi.gaussian_filter(granules, rng.uniform(0.7, 1.1)) * 2 * np.pi
    else:
        signal *= 1.0 + 0.06 * smooth_field(shape, rng, 4.0) * inside
    signal -= 0.35 * nuc_signal * body.brightness * (body_signal > 0.5)
    signal = blur(np.clip(signal, 0, None), 0.9)
    background = 1.0 + 0.2 * smooth_field(shape, rng, size)
    photons = rng.uniform(6, 14) * background + rng.uniform(60, 120) * signal
    return camera(photons, rng, gain=2.0, offset=100.0, read_noise=3.0)

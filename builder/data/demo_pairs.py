"""Paired synthetic images for image-to-image tasks (the ``denoise`` and ``label_free`` demo kinds).

- denoise: a fluorescence-like structure (cytoskeleton filaments inside a few cells, plus vesicle-like blobs)
  recorded at a low photon count (noisy input) and its noise-free expected image (clean target, same units).
- label_free: a transmitted-light, phase-contrast-like image of cells (dark cell bodies with bright halos at the
  edges, thicker nuclei and nucleoli, a little debris and uneven illumination, no specific stain) and the matching
  fluorescence image of a nuclear stain (the target a label-free model learns to predict).
"""

from __future__ import annotations

import numpy as np

from builder.data.demo_draw import Blob, blur, camera, random_blob, render_blobs, smooth_field
from builder.data.demo_nuclei import place_nuclei, render_fluorescence

__all__ = ["make_denoise_pair", "make_label_free_pair"]

OFFSET, GAIN = 100.0, 2.0


def _filament(rng: np.random.Generator, canvas: np.ndarray, y: float, x: float, length: float, amp: float) -> None:
    """Add a persistent random walk (a filament) into ``canvas`` with bilinear splatting, 0.5 px steps."""
    h, w = canvas.shape
    heading = rng.uniform(0, 2 * np.pi)
    steps = int(length / 0.5)
    turns = np.cumsum(rng.normal(0.0, 0.06, steps)) + heading
    ys = y + np.cumsum(0.5 * np.sin(turns))
    xs = x + np.cumsum(0.5 * np.cos(turns))
    inside = (ys >= 0) & (ys < h - 1) & (xs >= 0) & (xs < w - 1)
    if not inside.all():  # stop where the filament first leaves the image
        stop = int(np.argmin(inside))
        ys, xs = ys[:stop], xs[:stop]
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    fy, fx = ys - y0, xs - x0
    weight = 0.5 * amp
    for dy, dx, wgt in ((0, 0, (1 - fy) * (1 - fx)), (1, 0, fy * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 1, fy * fx)):
        np.add.at(canvas, (y0 + dy, x0 + dx), weight * wgt)


def make_denoise_pair(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One (noisy uint16, clean float32) pair, both Y,X and in camera units (clean = expected noisy value)."""
    h, w = shape
    n_cells = max(1, int(rng.integers(2, 5) * h * w / 128**2))
    cells = [
        random_blob(rng, rng.uniform(0, h), rng.uniform(0, w), rng.uniform(18, 34), rng.uniform(1.0, 2.0),
                    irregularity=0.15, texture=0.08)
        for _ in range(n_cells)
    ]
    for cell in cells:
        cell.edge = 2.5
    cytoplasm, _ = render_blobs(shape, cells, dome=0.6)
    lines = np.zeros(shape)
    for cell in cells:
        for _ in range(int(rng.integers(6, 14))):
            rr, ang = np.sqrt(rng.uniform(0, 0.6)), rng.uniform(0, 2 * np.pi)
            _filament(rng, lines, cell.cy + rr * cell.b * np.sin(ang), cell.cx + rr * cell.a * np.cos(ang),
                      rng.uniform(25, 110), rng.uniform(0.5, 1.2))
    lines = blur(lines, rng.uniform(0.8, 1.1)) * 2.3
    dots = np.zeros(shape)
    n_dots = int(rng.integers(15, 40) * h * w / 128**2)
    dots[rng.integers(0, h, n_dots), rng.integers(0, w, n_dots)] = rng.uniform(0.5, 2.0, n_dots)
    dots = blur(dots, rng.uniform(1.0, 1.6)) * 2 * np.pi * 1.5
    structure = 0.12 * cytoplasm + (lines + dots) * (0.3 + 0.7 * np.clip(4.0 * cytoplasm, 0.0, 1.0))
    background = 1.0 + 0.2 * smooth_field(shape, rng, max(shape))
    photons = rng.uniform(2, 5) * background + rng.uniform(12, 30) * structure
    noisy = camera(photons, rng, gain=GAIN, offset=OFFSET, read_noise=4.0)
    clean = (OFFSET + GAIN * photons).astype(np.float32)
    return noisy, clean


def _cell_with_nucleus(rng: np.random.Generator, body: Blob) -> Blob:
    eq = np.sqrt(body.a * body.b)
    off, ang = rng.uniform(0, 0.25) * body.b, rng.uniform(0, 2 * np.pi)
    nucleus = random_blob(rng, body.cy + off * np.sin(ang), body.cx + off * np.cos(ang), rng.uniform(0.38, 0.5) * eq,
                          rng.uniform(1.0, 1.5), irregularity=0.04, texture=0.1, n_spots=int(rng.integers(1, 4)),
                          spot_amplitude=0.6)
    nucleus.brightness = float(rng.lognormal(0.0, 0.25))
    return nucleus


def make_label_free_pair(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One (phase-contrast-like uint16, nuclear-stain fluorescence uint16) pair of the same cells, both Y,X."""
    h, w = shape
    bodies, _ = place_nuclei(rng, shape, mean_radius=rng.uniform(11, 15), fill=rng.uniform(0.35, 0.55))
    bodies = bodies[:]  # touching cells press against each other; no overlap pairs for bodies
    nuclei = []
    for body in bodies:
        body.harmonics[:, 1] *= 2.0  # cell outlines are more irregular than nuclei
        body.texture, body.spots = 0.2, body.spots[:0]
        if rng.random() < 0.1:  # a rounded, thick, mitotic-like cell
            body.a = body.b = 0.65 * np.sqrt(body.a * body.b)
            body.brightness = 2.5
            nucleus = _cell_with_nucleus(rng, body)
            nucleus.brightness *= 1.8
        else:
            body.brightness = float(rng.uniform(0.7, 1.1))
            nucleus = _cell_with_nucleus(rng, body)
        nuclei.append(nucleus)
    thickness, _ = render_blobs(shape, bodies, dome=0.8)
    nuc_thickness, _ = render_blobs(shape, nuclei, dome=0.6)
    n_debris = int(rng.integers(2, 8) * h * w / 128**2)
    debris = np.zeros(shape)
    debris[rng.integers(0, h, n_debris), rng.integers(0, w, n_debris)] = rng.uniform(10, 25, n_debris)
    phi = thickness + 0.5 * nuc_thickness * (thickness > 0.2) + blur(debris, 1.0)
    phi = blur(phi, 0.7)
    contrast = phi - blur(phi, 3.0)  # phase contrast: dark objects, bright halo around them
    illumination = 1.0 + 0.15 * smooth_field(shape, rng, max(shape))
    photons = rng.uniform(250, 450) * illumination * np.clip(1.0 - 0.9 * contrast - 0.05 * phi, 0.05, None)
    phase = camera(photons, rng, gain=1.0, offset=100.0, read_noise=4.0)
    fluo, _ = render_fluorescence(rng, shape, nuclei, peak_photons=rng.uniform(150, 300), background_photons=5.0)
    target = camera(fluo, rng, gain=1.0, offset=100.0, read_noise=2.0)
    return phase, target

"""Drawing primitives shared by the demo-data generators (:mod:`builder.data.demo`).

Objects are "blobs": ellipses with a slightly irregular outline, a soft edge, a per-object brightness and a
texture made of a smooth random field plus a few bright spots (chromocentres) stored in object coordinates, so a
moving, rotating object keeps its texture from frame to frame. Images are formed like on a microscope: objects are
summed into an expected photon image, blurred by a Gaussian point-spread function, put on an uneven background and
recorded by a camera (Poisson shot noise, gain, offset, Gaussian read noise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

__all__ = [
    "Blob",
    "blob_radius",
    "blur",
    "camera",
    "random_blob",
    "render_blobs",
    "smooth_field",
    "write_tiff",
]


@dataclass
class Blob:
    """One elliptical object (a nucleus or a cell body) in pixel coordinates.

    ``a``/``b`` are the semi-axes (pixels) along/across the angle ``theta`` (radians). ``harmonics`` holds rows of
    ``(order, amplitude, phase)`` that make the outline irregular. ``spots`` holds rows of ``(u, v, amplitude,
    sigma)`` with ``u, v`` in the unit disc of the object. ``texture`` is the amplitude of the smooth texture and
    ``texture_seed`` fixes it.
    """

    cy: float
    cx: float
    a: float
    b: float
    theta: float
    brightness: float = 1.0
    harmonics: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    spots: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    texture: float = 0.0
    texture_seed: int = 0
    edge: float = 0.9  # width of the soft edge, pixels

    @property
    def extent(self) -> float:
        """Radius of a circle that surely contains the object (pixels)."""
        bulge = 1.0 + float(np.abs(self.harmonics[:, 1]).sum()) if len(self.harmonics) else 1.0
        return max(self.a, self.b) * bulge + 3.0 * self.edge + 1.0


def random_blob(
    rng: np.random.Generator,
    cy: float,
    cx: float,
    radius: float,
    aspect: float,
    *,
    brightness: float = 1.0,
    irregularity: float = 0.06,
    texture: float = 0.15,
    n_spots: int = 0,
    spot_amplitude: float = 0.5,
) -> Blob:
    """Make a :class:`Blob` of equivalent radius ``radius`` (pixels) and axis ratio ``aspect`` (>= 1)."""
    a = radius * np.sqrt(aspect)
    b = radius / np.sqrt(aspect)
    orders = np.array([2.0, 3.0, 4.0])
    harmonics = np.stack(
        [orders, rng.normal(0.0, irregularity, 3) / orders * 2.0, rng.uniform(0, 2 * np.pi, 3)], axis=1
    )
    r = np.sqrt(rng.uniform(0, 0.75, n_spots))
    phi = rng.uniform(0, 2 * np.pi, n_spots)
    spots = np.stack(
        [
            r * np.cos(phi),
            r * np.sin(phi),
            spot_amplitude * rng.uniform(0.5, 1.5, n_spots),
            rng.uniform(0.8, 1.6, n_spots),
        ],
        axis=1,
    )
    return Blob(
        cy=float(cy),
        cx=float(cx),
        a=float(a),
        b=float(b),
        theta=float(rng.uniform(0, np.pi)),
        brightness=float(brightness),
        harmonics=harmonics,
        spots=spots,
        texture=float(texture),
        texture_seed=int(rng.integers(0, 2**31 - 1)),
    )


def _box(blob: Blob, shape: tuple[int, int]) -> tuple[slice, slice] | None:
    e = blob.extent
    y0, y1 = max(int(np.floor(blob.cy - e)), 0), min(int(np.ceil(blob.cy + e)) + 1, shape[0])
    x0, x1 = max(int(np.floor(blob.cx - e)), 0), min(int(np.ceil(blob.cx + e)) + 1, shape[1])
    if y1 <= y0 or x1 <= x0:
        return None
    return slice(y0, y1), slice(x0, x1)


def _local(blob: Blob, box: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """Object coordinates (u along the major axis, v across), in pixels, for every pixel of ``box``."""
    yy, xx = np.mgrid[box[0], box[1]].astype(np.float64)
    dy, dx = yy - blob.cy, xx - blob.cx
    c, s = np.cos(blob.theta), np.sin(blob.theta)
    return dx * c + dy * s, -dx * s + dy * c


def blob_radius(blob: Blob, box: tuple[slice, slice]) -> np.ndarray:
    """Normalised radius over ``box``: < 1 inside the (irregular) outline, 1 on it."""
    u, v = _local(blob, box)
    r = np.sqrt((u / blob.a) ** 2 + (v / blob.b) ** 2)
    if len(blob.harmonics):
        phi = np.arctan2(v / blob.b, u / blob.a)
        bulge = 1.0 + sum(amp * np.cos(order * phi + phase) for order, amp, phase in blob.harmonics)
        r = r / np.maximum(bulge, 0.3)
    return r


def _texture(blob: Blob, box: tuple[slice, slice]) -> np.ndarray:
    """Multiplicative texture (about 1) over ``box``, fixed in object coordinates."""
    u, v = _local(blob, box)
    out = np.ones_like(u)
    if blob.texture > 0:
        # A sum of a few random plane waves in object coordinates: smooth, moves and turns with the object.
        trng = np.random.default_rng(blob.texture_seed)
        k = trng.uniform(0.25, 0.7, 6)
        ang = trng.uniform(0, np.pi, 6)
        ph = trng.uniform(0, 2 * np.pi, 6)
        waves = sum(np.cos(ki * (u * np.cos(ai) + v * np.sin(ai)) + pi) for ki, ai, pi in zip(k, ang, ph, strict=True))
        out = out + blob.texture * waves / np.sqrt(3.0)
    for su, sv, amp, sig in blob.spots:
        d2 = (u - su * blob.a) ** 2 + (v - sv * blob.b) ** 2
        out = out + amp * np.exp(-d2 / (2 * sig**2))
    return np.clip(out, 0.05, None)


def render_blobs(
    shape: tuple[int, int],
    blobs: list[Blob],
    *,
    overlap_pairs: set[tuple[int, int]] | frozenset = frozenset(),
    dome: float = 0.3,
    ids: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``blobs`` into a signal image (float64) and an instance label image (uint16).

    Later blobs lie on top. Where two masks meet, the pixels go to the object whose normalised radius is smaller
    (they press against each other and touch along a line), unless the pair ``(i, j)`` (indices into ``blobs``,
    ``i < j``) is in ``overlap_pairs``: then the upper object takes the pixels and both signals add up, as in a
    projection of overlapping nuclei.
    """
    labels = np.zeros(shape, np.uint16)
    rmin = np.full(shape, np.inf)
    owner = np.full(shape, -1, np.int64)
    boxes = [_box(blob, shape) for blob in blobs]
    radii: list[np.ndarray | None] = []
    for i, (blob, box) in enumerate(zip(blobs, boxes, strict=True)):
        if box is None:
            radii.append(None)
            continue
        r = blob_radius(blob, box)
        radii.append(r)
        inside = r < 1.0
        cur_owner, cur_r = owner[box], rmin[box]
        take = inside & ((cur_owner < 0) | (r < cur_r))
        for j in np.unique(cur_owner[inside & (cur_owner >= 0)]):
            if (int(j), i) in overlap_pairs:
                take |= inside & (cur_owner == j)
        label = i + 1 if ids is None else ids[i]
        labels[box][take] = label
        cur_owner[take] = i
        cur_r[take] = r[take]
    signal = np.zeros(shape, np.float64)
    for i, (blob, box, radius) in enumerate(zip(blobs, boxes, radii, strict=True)):
        if box is None or radius is None:
            continue
        profile = 1.0 / (1.0 + np.exp((radius - 1.0) * max(blob.a, blob.b) / blob.edge))
        profile *= 1.0 - dome + dome * np.sqrt(np.clip(1.0 - np.minimum(radius, 1.0) ** 2, 0, 1))
        visible = np.ones_like(radius)
        others = owner[box]
        for j in np.unique(others[(others >= 0) & (others != i)]):
            pair = (min(i, int(j)), max(i, int(j)))
            if pair not in overlap_pairs:
                visible[others == j] = 0.0
        signal[box] += blob.brightness * profile * visible * _texture(blob, box)
    return signal, labels


def smooth_field(shape: tuple[int, int], rng: np.random.Generator, scale: float) -> np.ndarray:
    """A smooth random field of mean 0 and standard deviation 1 with features of about ``scale`` pixels."""
    coarse = max(int(np.ceil(max(shape) / scale)) + 3, 4)
    grid = rng.normal(size=(coarse, coarse))
    zoom = (shape[0] / (coarse - 3), shape[1] / (coarse - 3))
    big = ndi.zoom(grid, zoom, order=3, mode="reflect")[: shape[0], : shape[1]]
    big = big - big.mean()
    return big / (big.std() + 1e-12)


def camera(
    photons: np.ndarray,
    rng: np.random.Generator,
    *,
    gain: float = 1.0,
    offset: float = 100.0,
    read_noise: float = 3.0,
    dtype: type = np.uint16,
) -> np.ndarray:
    """Record an expected photon image: Poisson shot noise, gain, offset and Gaussian read noise."""
    counts = rng.poisson(np.clip(photons, 0, None)).astype(np.float64) * gain
    counts += offset + rng.normal(0.0, read_noise, photons.shape)
    info = np.iinfo(dtype)
    return np.clip(np.rint(counts), info.min, info.max).astype(dtype)


def write_tiff(path: Path, array: np.ndarray, pixel_size_um: float) -> None:
    """Write a 2D (Y,X) or 3D (T,Y,X) array as an ImageJ TIFF carrying the pixel size in micrometres."""
    import tifffile

    axes = "YX" if array.ndim == 2 else "TYX"
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(
        path,
        array,
        imagej=True,
        resolution=(1.0 / pixel_size_um, 1.0 / pixel_size_um),
        metadata={"axes": axes, "unit": "um"},
        photometric="minisblack",
    )


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (the point-spread function)."""
    return ndi.gaussian_filter(image, sigma, mode="reflect")

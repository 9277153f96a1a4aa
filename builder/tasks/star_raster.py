"""Pixels inside one star-convex polygon, without a general polygon filler.

A star-convex polygon around a centre ``c`` has one vertex per ray, ``c + d_k (cos a_k, sin a_k)`` with
``a_k = 2 pi k / K`` (see :mod:`builder.tasks.star_convex`). A pixel centre ``q`` whose angle around ``c`` lies
between rays ``k`` and ``k + 1`` is inside exactly when it lies on the centre's side of (or on) the edge from
vertex ``k`` to vertex ``k + 1``: with ``u_k`` the unit vector of ray ``k`` and ``p = q - c``,

    cross(u_k, p) * d_k + cross(p, u_{k+1}) * d_{k+1} <= d_k * d_{k+1} * sin(2 pi / K)

(this is ``cross(V_{k+1} - V_k, p - V_k) >= 0`` for the vertices ``V`` relative to ``c``, written out; on
ray ``k`` it reads ``|p| <= d_k``: "the radius of ``p`` is within the edge along its angle" with the division
multiplied out). All pixels of the polygon's bounding box are tested at once; for a pixel's own polygon on the
network's grid (integer centre) the angle-dependent terms come from a table of offsets computed once.

The result equals :func:`skimage.draw.polygon` except on pixels whose centre lies on the outline itself (this
rule counts them in; the even-odd rule of scikit-image counts some in and some out), see
``tests/builder/tasks/test_star_raster.py``.

An output enlarged by ``(zoom_y, zoom_x)`` describes the polygon stretched by those factors around its centre;
``q`` is inside the stretched polygon exactly when ``(q - c) / zoom`` is inside the unstretched one, so one test
serves both.
"""

from __future__ import annotations

import functools

import numpy as np


def sector_geometry(dy: np.ndarray, dx: np.ndarray, n_rays: int) -> tuple[np.ndarray, ...]:
    """What the inside test needs of points at offsets ``(dy, dx)``, whatever the ray lengths: the sector's rays
    ``k`` and ``k + 1``, ``cross(u_k, p)``, ``cross(p, u_{k+1})`` and ``|p|^2``."""
    step = 2.0 * np.pi / n_rays
    angle = np.arctan2(dy, dx)
    angle = np.where(angle < 0, angle + 2.0 * np.pi, angle)
    k = np.minimum((angle / step).astype(np.intp), n_rays - 1)
    k1 = np.where(k + 1 == n_rays, 0, k + 1)
    cos, sin = _unit_vectors(n_rays)
    past_k = dy * cos[k] - dx * sin[k]  # cross(u_k, p): how far p has turned past ray k
    short_of_k1 = dx * sin[k1] - dy * cos[k1]  # cross(p, u_{k+1}): how far p is short of ray k + 1
    return k, k1, past_k, short_of_k1, dy * dy + dx * dx


@functools.lru_cache(maxsize=8)
def _unit_vectors(n_rays: int) -> tuple[np.ndarray, np.ndarray]:
    from builder.tasks.star_convex import ray_angles

    angles = ray_angles(n_rays)
    return np.cos(angles), np.sin(angles)


def inside_sectors(geometry: tuple[np.ndarray, ...], distances: np.ndarray) -> np.ndarray:
    """The inside test (module docstring) on :func:`sector_geometry`'s values for ray lengths ``distances``."""
    k, k1, past_k, short_of_k1, r2 = geometry
    d = np.maximum(np.asarray(distances, np.float64), 0.0)
    d0, d1 = d[k], d[k1]
    inside = past_k * d0 + short_of_k1 * d1 <= d0 * d1 * np.sin(2.0 * np.pi / d.size)
    # no point of the triangle lies farther out than its farther vertex: this only matters where a ray is 0 long
    # and the triangle is a segment (or the centre alone), which the test above cannot bound along the other ray
    return inside & (r2 <= np.maximum(d0, d1) ** 2)


def star_inside(dy: np.ndarray, dx: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """Whether the points at offsets ``(dy, dx)`` from a centre lie in the star polygon of ``distances`` (K,).

    Points on the outline count as inside; with both rays of a point's sector 0 long, only the centre does.
    ``dy`` and ``dx`` are in pixels (float arrays of one shape).
    """
    return inside_sectors(sector_geometry(np.asarray(dy, np.float64), np.asarray(dx, np.float64),
                                          np.asarray(distances).size), distances)


#: Polygons whose longest ray (pixels) is shorter than this take their offsets' geometry from a table.
TABLE_REACH = 128

#: Per number of rays: :func:`sector_geometry` of the integer offsets ``-r .. r`` (rows, columns) and ``r``.
_TABLES: dict[int, tuple[tuple[np.ndarray, ...], int]] = {}


def _offset_table(n_rays: int, radius: int) -> tuple[tuple[np.ndarray, ...], int]:
    """:func:`sector_geometry` of the integer offsets up to at least ``radius`` and the radius it covers; one
    table per number of rays, replaced by a larger one when a polygon needs more."""
    table = _TABLES.get(n_rays)
    if table is None or table[1] < radius:
        radius = max(radius, 32, 2 * table[1] if table else 0)
        dy, dx = np.mgrid[-radius:radius + 1, -radius:radius + 1].astype(np.float64)
        table = (sector_geometry(dy, dx, n_rays), radius)
        _TABLES[n_rays] = table
    return table


def star_pixels(cy: float, cx: float, distances: np.ndarray, shape: tuple[int, int],
                zoom: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixels (centres) inside a star polygon, clipped to ``shape``.

    Parameters
    ----------
    cy, cx : float
        The polygon's centre (pixel coordinates; pixel ``(r, c)`` has its centre at ``(r, c)``).
    distances : (K,) array
        Ray lengths (pixels before ``zoom``).
    shape : (int, int)
        Image size.
    zoom : (float, float)
        Stretch of the polygon along Y and X around its centre.

    Returns
    -------
    rr, cc : int arrays
        The proposing pixel itself (rounded centre) when no pixel centre lies inside (a polygon thinner than a
        pixel), empty only when that pixel lies outside the image.
    """
    d = np.maximum(np.asarray(distances, np.float64), 0.0)
    reach = float(d.max()) if d.size else 0.0
    zy, zx = float(zoom[0]), float(zoom[1])
    top, bottom = max(int(np.ceil(cy - reach * zy)), 0), min(int(np.floor(cy + reach * zy)), shape[0] - 1)
    left, right = max(int(np.ceil(cx - reach * zx)), 0), min(int(np.floor(cx + reach * zx)), shape[1] - 1)
    on_table = zy == zx == 1.0 and cy == int(cy) and cx == int(cx) and reach < TABLE_REACH
    if top <= bottom and left <= right and on_table:
        # a pixel's own polygon (suppression on the grid): the offsets' geometry comes from a table
        y, x = int(cy), int(cx)
        table, radius = _offset_table(d.size, int(np.ceil(reach)) + 1)
        window = (slice(top - y + radius, bottom - y + radius + 1), slice(left - x + radius, right - x + radius + 1))
        rr, cc = np.nonzero(inside_sectors(tuple(t[window] for t in table), d))
        if rr.size:
            return rr + top, cc + left
    elif top <= bottom and left <= right:
        rows = np.arange(top, bottom + 1)
        cols = np.arange(left, right + 1)
        dy = ((rows - cy) / zy)[:, None]
        dx = ((cols - cx) / zx)[None, :]
        dy, dx = np.broadcast_arrays(dy, dx)
        rr, cc = np.nonzero(star_inside(dy, dx, d))
        if rr.size:
            return rr + top, cc + left
    y, x = int(round(cy)), int(round(cx))
    if 0 <= y < shape[0] and 0 <= x < shape[1]:
        return np.array([y]), np.array([x])
    return np.zeros(0, np.intp), np.zeros(0, np.intp)

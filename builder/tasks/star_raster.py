"""Pixels inside one star-convex polygon, without a general polygon filler.

A star-convex polygon around a centre ``c`` has one vertex per ray, ``c + d_k (cos a_k, sin a_k)`` with
``a_k = 2 pi k / K`` (see :mod:`builder.tasks.star_convex`). A pixel centre ``q`` whose angle around ``c`` lies
between rays ``k`` and ``k + 1`` is inside exactly when it lies on the centre's side of (or on) the edge from
vertex ``k`` to vertex ``k + 1``: with ``u_k`` the unit vector of ray ``k`` and ``p = q - c``,

    cross(u_k, p) * d_k + cross(p, u_{k+1}) * d_{k+1} <= d_k * d_{k+1} * sin(2 pi / K)

(``cross(V_{k+1} - V_k, p - V_k) >= 0`` for the vertices ``V`` relative to ``c``, written out; on ray ``k`` it
reads ``|p| <= d_k``: it is "radius of ``p`` within the edge along its angle" with the division multiplied out). All pixels of the polygon's bounding box are tested at once.

The result equals :func:`skimage.draw.polygon` except on pixels whose centre lies on the outline itself (this
rule counts them in; the even-odd rule of scikit-image counts some in and some out), see
``tests/builder/tasks/test_star_raster.py``.

An output enlarged by ``(zoom_y, zoom_x)`` describes the polygon stretched by those factors around its centre;
``q`` is inside the stretched polygon exactly when ``(q - c) / zoom`` is inside the unstretched one, so one test
serves both.
"""

from __future__ import annotations

import numpy as np


def star_inside(dy: np.ndarray, dx: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """Whether the points at offsets ``(dy, dx)`` from a centre lie in the star polygon of ``distances`` (K,).

    Points on the outline count as inside; with both rays of a point's sector 0 long, only the centre does.
    ``dy`` and ``dx`` are in pixels (float arrays of one shape).
    """
    d = np.maximum(np.asarray(distances, np.float64), 0.0)
    k_rays = d.size
    step = 2.0 * np.pi / k_rays
    angle = np.arctan2(dy, dx)
    angle = np.where(angle < 0, angle + 2.0 * np.pi, angle)
    k = np.minimum((angle / step).astype(np.intp), k_rays - 1)
    k1 = np.where(k + 1 == k_rays, 0, k + 1)
    a0, a1 = k * step, k1 * step
    d0, d1 = d[k], d[k1]
    cross0 = dy * np.cos(a0) - dx * np.sin(a0)  # cross(u_k, p): how far p has turned past ray k
    cross1 = dx * np.sin(a1) - dy * np.cos(a1)  # cross(p, u_{k+1}): how far p is short of ray k + 1
    inside = cross0 * d0 + cross1 * d1 <= d0 * d1 * np.sin(step)
    # no point of the triangle lies farther out than its farther vertex: this only matters where a ray is 0 long
    # and the triangle is a segment (or the centre alone), which the test above cannot bound along the other ray
    return inside & (dy * dy + dx * dx <= np.maximum(d0, d1) ** 2)


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
    if top <= bottom and left <= right:
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

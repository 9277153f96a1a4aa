"""Pixels of many star-convex polygons in one array pass, equal to :func:`~builder.tasks.star_raster.star_pixels`
of each.

Filling one polygon at a time cost about 25 microseconds of NumPy call overhead per polygon, for a few hundred
pixels of work: 1,769 polygons (1,105 tried on the network's grid, 664 drawn at full size) took 0.09 of the 0.20
CPU s of post-processing a 1024 x 1344 nuclei image. Here polygons whose longest ray has the same whole part ``h``
are tested together: they share one window of the table of offsets (:func:`builder.tasks.star_raster._offset_table`,
the offsets within ``h + 1`` of the centre), each offset's sector geometry is read from it, and every pixel passes
the same inside test, value for value (:func:`builder.tasks.star_raster.inside_sectors`), in ``(polygons, offsets)``
arrays.

Only polygons with an integer centre, no zoom and rays under the table's reach are done this way (all of them on
the network's grid and, with Y and X zoomed alike, at full size); any other goes through ``star_pixels`` itself.
"""

from __future__ import annotations

import functools

import numpy as np

from builder.tasks.star_raster import TABLE_REACH, _offset_table, star_pixels

#: Window pixels tested in one pass (about 40 MB of temporaries).
CHUNK = 1 << 19


def polygons_pixels(cy: np.ndarray, cx: np.ndarray, distances: np.ndarray, shape: tuple[int, int],
                    zoom: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices (``row * width + column``) of the pixels inside each polygon, polygon after polygon.

    Parameters
    ----------
    cy, cx : (N,) float arrays
        Polygon centres (pixel ``(r, c)`` has its centre at ``(r, c)``).
    distances : (N, K) array
        Ray lengths (pixels before ``zoom``).
    shape : (int, int)
        Image size.
    zoom : (float, float)
        Stretch of every polygon along Y and X around its centre.

    Returns
    -------
    pixels : int array
        Polygon ``i``'s pixels are ``pixels[offsets[i]:offsets[i + 1]]``, in row-major order; exactly
        ``star_pixels(cy[i], cx[i], distances[i], shape, zoom)`` (so the rounded centre for a polygon thinner than a
        pixel, nothing for one whose centre lies outside the image).
    offsets : (N + 1,) int array
    """
    cy = np.asarray(cy, np.float64)
    cx = np.asarray(cx, np.float64)
    d = np.maximum(np.asarray(distances, np.float64), 0.0)
    n, k = d.shape
    with np.errstate(invalid="ignore"):
        reach = d.max(axis=1) if k else np.zeros(n)
        table = np.isfinite(reach) & (reach < TABLE_REACH) & (cy == np.floor(cy)) & (cx == np.floor(cx))
    table &= (float(zoom[0]) == 1.0) & (float(zoom[1]) == 1.0)
    if not table.all():
        return _mixed(cy, cx, d, shape, zoom, table)
    return _table_pixels(cy.astype(np.intp), cx.astype(np.intp), d, reach, shape)


def _mixed(cy: np.ndarray, cx: np.ndarray, d: np.ndarray, shape: tuple[int, int], zoom: tuple[float, float],
           table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`polygons_pixels` where some polygons cannot use the table: those one at a time."""
    width = shape[1]
    pieces: list[np.ndarray] = [np.zeros(0, np.intp)] * cy.size
    index = np.flatnonzero(table)
    if index.size:
        pixels, offsets = _table_pixels(cy[index].astype(np.intp), cx[index].astype(np.intp), d[index],
                                        d[index].max(axis=1), shape)
        for i, start, stop in zip(index.tolist(), offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
            pieces[i] = pixels[start:stop]
    for i in np.flatnonzero(~table).tolist():
        rr, cc = star_pixels(float(cy[i]), float(cx[i]), d[i], shape, zoom)
        pieces[i] = rr * width + cc
    offsets = np.zeros(cy.size + 1, np.intp)
    np.cumsum([p.size for p in pieces], out=offsets[1:])
    return (np.concatenate(pieces) if pieces else np.zeros(0, np.intp)), offsets


def _table_pixels(cy: np.ndarray, cx: np.ndarray, d: np.ndarray, reach: np.ndarray, shape: tuple[int, int]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`polygons_pixels` of polygons with integer centres and rays under :data:`TABLE_REACH` (float64,
    non-negative).

    ``star_pixels`` tests the pixels within ``floor(reach)`` rows and columns of the centre (its box: the rounding
    of ``ceil(cy - reach)`` can only add a row that the test refuses, being farther than the longest ray).
    Polygons with the same ``floor(reach)`` share that window of the offset table (:func:`_disc_window`); they are
    tested together, a chunk at a time, and their pixels put back in polygon order.
    """
    height, width = shape
    half = np.floor(reach).astype(np.intp)
    count = np.zeros(cy.size, np.intp)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (polygon, flat pixel, rank in its polygon)
    for h in np.unique(half).tolist():
        group = np.flatnonzero(half == h)
        tables = _disc_window(d.shape[1], h)
        per_chunk = max(CHUNK // tables[0].size, 1)
        for start in range(0, group.size, per_chunk):
            members = group[start:start + per_chunk]
            polygon, pixel = _inside_windows(cy[members], cx[members], d[members], h, tables, shape)
            polygon = members[polygon]
            counted = np.bincount(polygon, minlength=cy.size)
            rank = np.arange(polygon.size) - (np.cumsum(counted) - counted)[polygon]  # polygons come in order
            found.append((polygon, pixel, rank))
            count += counted
    empty = np.flatnonzero(count == 0)
    inside = (cy[empty] >= 0) & (cy[empty] < height) & (cx[empty] >= 0) & (cx[empty] < width)
    empty = empty[inside]  # no pixel centre inside: the proposing pixel itself, if it lies in the image
    found.append((empty, cy[empty] * width + cx[empty], np.zeros(empty.size, np.intp)))
    count[empty] = 1
    offsets = np.zeros(cy.size + 1, np.intp)
    np.cumsum(count, out=offsets[1:])
    pixels = np.empty(int(offsets[-1]), np.intp)
    for polygon, pixel, rank in found:
        pixels[offsets[polygon] + rank] = pixel
    return pixels, offsets


@functools.lru_cache(maxsize=64)
def _disc_window(n_rays: int, half: int) -> tuple[np.ndarray, ...]:
    """The offsets of the ``(2 half + 1)^2`` window that lie within ``half + 1`` of its centre, in row-major order:
    their :func:`~builder.tasks.star_raster.sector_geometry` from the offset table (sector, next sector,
    ``cross(u_k, p)``, ``cross(p, u_{k+1})``, ``|p|^2``), then their rows and columns. The rays of a polygon in this
    window are shorter than ``half + 1``, so an offset farther out fails the test's ``|p|^2 <= max(d_k, d_k+1)^2``
    anyway."""
    geometry, radius = _offset_table(n_rays, half + 1)
    window = slice(radius - half, radius + half + 1)
    flat = [np.ravel(t[window, window]) for t in geometry]
    dy, dx = np.divmod(np.arange(flat[0].size), 2 * half + 1)
    near = flat[4] < (half + 1) ** 2
    out = tuple(a[near] for a in (*flat, dy - half, dx - half))
    for array in out:
        array.flags.writeable = False
    return out


def _inside_windows(cy: np.ndarray, cx: np.ndarray, d: np.ndarray, half: int, tables: tuple[np.ndarray, ...],
                    shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The inside test on the offsets of :func:`_disc_window` (``tables``) around each centre: which polygon (index
    into ``cy``) and flat image index of each pixel inside, polygon after polygon, row-major within each."""
    sector, sector1, past_k, short_of_k1, r2, dy, dx = tables
    height, width = shape
    d0, d1 = np.take(d, sector, axis=1), np.take(d, sector1, axis=1)  # (n, offsets): each pixel's two rays
    # the test of builder.tasks.star_raster.inside_sectors, operation for operation (in place: fewer temporaries)
    lhs = np.multiply(past_k, d0)
    lhs += short_of_k1 * d1
    rhs = np.multiply(d0, d1)
    rhs *= np.sin(2.0 * np.pi / d.shape[1])
    inside = lhs <= rhs
    far = np.maximum(d0, d1, out=d0)
    inside &= r2 <= np.square(far, out=far)
    at = np.flatnonzero(inside)
    polygon = at // sector.size
    offset = at - polygon * sector.size
    pixel = (cy * width + cx)[polygon] + (dy * width + dx)[offset]
    if cy.min() - half < 0 or cy.max() + half >= height or cx.min() - half < 0 or cx.max() + half >= width:
        rows, cols = cy[polygon] + dy[offset], cx[polygon] + dx[offset]
        keep = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        polygon, pixel = polygon[keep], pixel[keep]
    return polygon, pixel

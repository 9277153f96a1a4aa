"""Label edits as plain functions on instance label images (Y, X; 0 = background, 1.. = objects).

Every function returns a new array and leaves its input untouched, so an undo history can keep the
difference. Points are ``(row, col)`` in pixel units (fractions allowed; pixel centres sit on integers).

Example
-------
>>> labels = np.zeros((5, 5), np.int32)
>>> brush(labels, [(2, 0), (2, 4)], radius=0, value=1)[2].tolist()
[1, 1, 1, 1, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from builder.errors import CellwrightError

Point = tuple[float, float]
_EIGHT = np.ones((3, 3), bool)


def _validate_labels(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise CellwrightError(what="Cannot edit these labels.", expected="a 2-D integer label image (Y, X)",
                              received=f"shape {labels.shape}, dtype {labels.dtype}",
                              fix="Open a label image (one id per object, 0 = background).", key="labels")
    return labels


def _points(points: Sequence[Point]) -> np.ndarray:
    array = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(array):
        raise CellwrightError(what="An edit needs at least one point.", expected="one or more (row, col) points",
                              received="points=[]", key="points")
    return array


def new_object_id(labels: np.ndarray) -> int:
    """The id for a new object: one more than the largest id (ids stay unique)."""
    return int(_validate_labels(labels).max(initial=0)) + 1


def object_count(labels: np.ndarray) -> int:
    """How many objects (distinct ids other than 0) the image holds."""
    ids = np.unique(_validate_labels(labels))
    return int(np.count_nonzero(ids))


def stroke_mask(shape: tuple[int, int], points: Sequence[Point], radius: float) -> np.ndarray:
    """Pixels whose centre lies within ``radius`` of the polyline through ``points`` (a brush stroke).

    A radius of 0 paints the pixels the line passes through (one pixel wide).
    """
    pts = _points(points)
    reach = max(float(radius), 0.5)
    mask = np.zeros(shape, bool)
    segments = zip(pts, pts[1:], strict=False) if len(pts) > 1 else [(pts[0], pts[0])]
    for a, b in segments:
        r0 = max(0, int(np.floor(min(a[0], b[0]) - reach)))
        r1 = min(shape[0], int(np.ceil(max(a[0], b[0]) + reach)) + 1)
        c0 = max(0, int(np.floor(min(a[1], b[1]) - reach)))
        c1 = min(shape[1], int(np.ceil(max(a[1], b[1]) + reach)) + 1)
        if r1 <= r0 or c1 <= c0:
            continue
        rows, cols = np.mgrid[r0:r1, c0:c1]
        d = b - a
        length2 = float(d @ d)
        t = 0.0 if length2 == 0 else np.clip(((rows - a[0]) * d[0] + (cols - a[1]) * d[1]) / length2, 0, 1)
        dist2 = (rows - (a[0] + t * d[0])) ** 2 + (cols - (a[1] + t * d[1])) ** 2
        mask[r0:r1, c0:c1] |= dist2 <= reach * reach
    return mask


def brush(labels: np.ndarray, points: Sequence[Point], radius: float, value: int, *,
          overwrite: bool = False) -> np.ndarray:
    """Paint object ``value`` along a stroke.

    Parameters
    ----------
    labels : (Y, X) ndarray of int
    points : sequence of (row, col)
        The stroke.
    radius : float
        Brush radius in pixels (0: one pixel wide).
    value : int
        Object id to paint (>= 1; use :func:`erase` to paint background).
    overwrite : bool
        Also paint over other objects; by default only background and object ``value`` change.

    Returns
    -------
    (Y, X) ndarray
        A new label image.
    """
    labels = _validate_labels(labels)
    if value < 1:
        raise CellwrightError(what="Cannot paint with this object id.", expected="an id >= 1",
                              received=f"value={value}", fix="Pick an object or press 'New object'.", key="value")
    mask = stroke_mask(labels.shape, points, radius)
    if not overwrite:
        mask &= (labels == 0) | (labels == value)
    out = labels.copy()
    out[mask] = value
    return out


def erase(labels: np.ndarray, points: Sequence[Point], radius: float, *, only: int | None = None) -> np.ndarray:
    """Set the pixels along a stroke to background (all objects, or only object ``only``)."""
    labels = _validate_labels(labels)
    mask = stroke_mask(labels.shape, points, radius)
    if only is not None:
        mask &= labels == only
    out = labels.copy()
    out[mask] = 0
    return out


def _seed(labels: np.ndarray, seed: Point) -> tuple[int, int]:
    row, col = (int(round(v)) for v in seed)
    if not (0 <= row < labels.shape[0] and 0 <= col < labels.shape[1]):
        raise CellwrightError(what="The point is outside the image.",
                              expected=f"row 0..{labels.shape[0] - 1}, col 0..{labels.shape[1] - 1}",
                              received=f"row={row}, col={col}", fix="Click inside the image.", key="seed")
    return row, col


def flood_fill(labels: np.ndarray, seed: Point, value: int) -> np.ndarray:
    """Give ``value`` to the 4-connected region of equal ids that contains ``seed`` (e.g. fill a drawn outline)."""
    from scipy import ndimage

    labels = _validate_labels(labels)
    row, col = _seed(labels, seed)
    regions, _ = ndimage.label(labels == labels[row, col])
    out = labels.copy()
    out[regions == regions[row, col]] = value
    return out


def polygon_fill(labels: np.ndarray, vertices: Sequence[Point], value: int, *, overwrite: bool = False) -> np.ndarray:
    """Fill the polygon (or lasso: many vertices) through ``vertices`` with object ``value``.

    Pixels whose centre lies inside the polygon are filled; by default other objects are kept.
    """
    from skimage.draw import polygon

    labels = _validate_labels(labels)
    pts = _points(vertices)
    if len(pts) < 3:
        raise CellwrightError(what="A polygon needs at least three corners.", expected="3 or more points",
                              received=f"{len(pts)} point(s)", fix="Click at least three corners.", key="vertices")
    rows, cols = polygon(pts[:, 0], pts[:, 1], shape=labels.shape)
    mask = np.zeros(labels.shape, bool)
    mask[rows, cols] = True
    mask |= stroke_mask(labels.shape, [*map(tuple, pts), tuple(pts[0])], 0)  # the outline itself
    if not overwrite:
        mask &= (labels == 0) | (labels == value)
    out = labels.copy()
    out[mask] = value
    return out


def delete_object(labels: np.ndarray, object_id: int) -> np.ndarray:
    """Remove object ``object_id`` (its pixels become background)."""
    labels = _validate_labels(labels)
    _require(labels, object_id, "object_id")
    return np.where(labels == object_id, 0, labels).astype(labels.dtype)


def merge_objects(labels: np.ndarray, keep: int, other: int) -> np.ndarray:
    """Join object ``other`` into object ``keep`` (``other``'s pixels take the id ``keep``)."""
    labels = _validate_labels(labels)
    _require(labels, keep, "keep")
    _require(labels, other, "other")
    if keep == other:
        raise CellwrightError(what="Merging needs two different objects.", expected="two different ids",
                              received=f"keep={keep}, other={other}", fix="Click a second, different object.",
                              key="other")
    return np.where(labels == other, keep, labels).astype(labels.dtype)


def _require(labels: np.ndarray, object_id: int, name: str) -> None:
    if object_id < 1 or not (labels == object_id).any():
        raise CellwrightError(what=f"There is no object {object_id} in this image.", expected="the id of an object",
                              received=f"{name}={object_id}", fix="Click on an object first.", key=name)


def line_pixels(shape: tuple[int, int], points: Sequence[Point]) -> np.ndarray:
    """A 4-connected one-pixel line through ``points`` (a cut that no diagonal step can cross)."""
    pts = _points(points)
    mask = np.zeros(shape, bool)
    previous: tuple[int, int] | None = None
    for a, b in zip(pts, pts[1:], strict=False) if len(pts) > 1 else [(pts[0], pts[0])]:
        steps = max(2, int(np.ceil(np.abs(b - a).max() * 4)) + 1)
        for t in np.linspace(0, 1, steps):
            r, c = (int(round(v)) for v in a + t * (b - a))
            if previous is not None and r != previous[0] and c != previous[1]:
                _set(mask, r, previous[1])  # fill the diagonal step
            _set(mask, r, c)
            previous = (r, c)
    return mask


def _set(mask: np.ndarray, r: int, c: int) -> None:
    if 0 <= r < mask.shape[0] and 0 <= c < mask.shape[1]:
        mask[r, c] = True


def split_object(labels: np.ndarray, points: Sequence[Point]) -> tuple[np.ndarray, list[int]]:
    """Cut the object under a drawn line into pieces.

    The object is the one the line crosses most. Its largest piece keeps its id, the others get new ids; the
    pixels on the line go to the nearest piece, so no pixel is lost.

    Returns
    -------
    (labels, ids)
        The new label image and the ids of the pieces (the kept id first).

    Raises
    ------
    CellwrightError
        If the line crosses no object or does not cut it in two.
    """
    from scipy import ndimage

    labels = _validate_labels(labels)
    cut = line_pixels(labels.shape, points)
    under = labels[cut]
    under = under[under > 0]
    if not under.size:
        raise CellwrightError(what="The line crosses no object.", expected="a line across an object",
                              received=f"{len(_points(points))} point(s) over background",
                              fix="Draw the line across the object you want to split.", key="points")
    ids, counts = np.unique(under, return_counts=True)
    target = int(ids[np.argmax(counts)])
    inside = labels == target
    pieces, n = ndimage.label(inside & ~cut, structure=_EIGHT)
    if n < 2:
        raise CellwrightError(what=f"The line does not cut object {target} in two.",
                              expected="a line from background to background across the object",
                              received="one piece", fix="Draw the line all the way across the object.",
                              key="points")
    sizes = np.bincount(pieces.ravel())[1:]
    order = np.argsort(-sizes, kind="stable") + 1  # piece numbers, largest first
    out = labels.copy()
    top = int(labels.max())
    new_ids = [target] + list(range(top + 1, top + n))
    lookup = np.zeros(n + 1, labels.dtype)
    for piece, new_id in zip(order, new_ids, strict=True):
        lookup[piece] = new_id
    _, (near_r, near_c) = ndimage.distance_transform_edt(pieces == 0, return_indices=True)
    nearest = pieces[near_r, near_c]
    out[inside] = lookup[np.where(pieces > 0, pieces, nearest)[inside]]
    return out, new_ids


def separate_disconnected(labels: np.ndarray, ids: Sequence[int] | None = None) -> np.ndarray:
    """Give every disconnected piece of an object (after erasing through it) an id of its own.

    The largest piece keeps the id. ``ids`` limits the check to these objects (default: all).
    """
    from scipy import ndimage

    labels = _validate_labels(labels)
    out = labels.copy()
    top = int(labels.max(initial=0))
    check = np.unique(labels) if ids is None else np.asarray(list(ids))
    for object_id in check[check > 0]:
        rows, cols = np.nonzero(labels == object_id)
        if not rows.size:
            continue
        window = (slice(int(rows.min()), int(rows.max()) + 1), slice(int(cols.min()), int(cols.max()) + 1))
        pieces, n = ndimage.label(labels[window] == object_id, structure=_EIGHT)  # only the object's box
        if n < 2:
            continue
        sizes = np.bincount(pieces.ravel())[1:]
        target = out[window]
        for piece in (np.argsort(-sizes, kind="stable") + 1)[1:]:
            top += 1
            target[pieces == piece] = top
    return out

"""Random training patches (with foreground oversampling) and tiled whole-image prediction with smooth blending."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np


def _validate_inputs(image: np.ndarray, size: int, name: str = "image") -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"`{name}` must be Y,X,C. Received: {name}.shape={image.shape}")
    if size < 1:
        raise ValueError(f"`size` must be >= 1. Received: size={size}")
    return image


#: How :func:`pad_to` fills the border.
PadMode = Literal["reflect", "constant", "symmetric", "edge"]

def pad_to(array: np.ndarray, size: int, *, mode: PadMode = "reflect") -> np.ndarray:
    """Pad the end of Y and X so both are at least ``size`` (reflect for images, ``constant`` for masks)."""
    pad_y, pad_x = max(0, size - array.shape[0]), max(0, size - array.shape[1])
    if not pad_y and not pad_x:
        return array
    pads: list[tuple[int, int]] = [(0, pad_y), (0, pad_x)] + [(0, 0)] * (array.ndim - 2)
    if mode == "reflect" and (pad_y >= array.shape[0] or pad_x >= array.shape[1]):
        mode = "symmetric" if min(array.shape[:2]) > 1 else "edge"
        if mode == "symmetric" and (pad_y > array.shape[0] or pad_x > array.shape[1]):
            mode = "edge"
    return np.pad(array, pads, mode=mode)


#: How foreground patch centres are drawn (``preprocess.patch.balance``): every foreground pixel alike, or every
#: object alike (an object: a connected region of one mask value).
Balance = Literal["pixels", "objects"]


def foreground_points(mask: np.ndarray, max_points: int = 4096, seed: int = 0, balance: Balance = "pixels"
                      ) -> np.ndarray:
    """Return up to ``max_points`` (y, x) coordinates of foreground pixels (``mask > 0``), as ``(N, 2)`` int32.

    With ``balance="pixels"`` the points are a uniform sample of the foreground pixels, so a large object gets
    more of them than a small one. With ``balance="objects"`` a point is a random pixel of a random object, so
    small objects (cells cut by the image edge, newborn daughters) are chosen as often as large ones; the points
    then repeat pixels of small objects.
    """
    values = np.asarray(mask)[..., 0] if np.ndim(mask) == 3 else np.asarray(mask)
    if balance == "objects":
        return _object_points(values, max_points, seed)
    fg = np.argwhere(values > 0)
    if len(fg) > max_points:
        fg = fg[np.random.default_rng(seed).choice(len(fg), max_points, replace=False)]
    return fg.astype(np.int32)


def _object_points(values: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` points, each a uniformly drawn pixel of a uniformly drawn object (connected region of one value > 0)."""
    from skimage.measure import label

    objects = label(np.where(values > 0, values, 0).astype(np.int64), background=0, connectivity=1)
    count = int(objects.max())
    if count == 0:
        return np.zeros((0, 2), np.int32)
    ys, xs = np.nonzero(objects)
    order = np.argsort(objects[ys, xs], kind="stable")
    ys, xs = ys[order], xs[order]
    sizes = np.bincount(objects[ys, xs], minlength=count + 1)[1:]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rng = np.random.default_rng(seed)
    which = rng.integers(count, size=n)
    pick = starts[which] + (rng.random(n) * sizes[which]).astype(np.int64)
    return np.stack([ys[pick], xs[pick]], axis=1).astype(np.int32)


def random_patch_corner(
    shape: tuple[int, int],
    size: int,
    rng: np.random.Generator,
    *,
    points: np.ndarray | None = None,
    foreground_fraction: float = 0.0,
) -> tuple[int, int]:
    """Choose the top-left corner of a ``size`` x ``size`` patch inside an image of ``shape`` (Y, X).

    With probability ``foreground_fraction`` (and foreground ``points`` given) the patch is centred near a random
    foreground pixel, so that sparse objects are seen often enough.
    """
    max_y, max_x = max(0, shape[0] - size), max(0, shape[1] - size)
    if points is not None and len(points) and rng.random() < foreground_fraction:
        cy, cx = points[rng.integers(len(points))]
        jitter = rng.integers(-size // 4, size // 4 + 1, size=2)
        y = int(np.clip(cy - size // 2 + jitter[0], 0, max_y))
        x = int(np.clip(cx - size // 2 + jitter[1], 0, max_x))
        return y, x
    return int(rng.integers(max_y + 1)), int(rng.integers(max_x + 1))


def random_patches(
    image: np.ndarray,
    mask: np.ndarray | None,
    size: int,
    n: int,
    *,
    seed: int = 0,
    foreground_fraction: float = 0.0,
    balance: Balance = "pixels",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Cut ``n`` random ``size`` x ``size`` patches from an image (and its mask at the same place).

    Parameters
    ----------
    image : (Y, X, C) ndarray
    mask : (Y, X, K) ndarray or None
        Mask or target; patches are taken at the same positions. Foreground is ``mask[..., 0] > 0``.
    size : int
        Patch side. Images smaller than this are padded (reflect; masks with 0).
    n : int
        Number of patches.
    seed : int
        Seed of the positions.
    foreground_fraction : float
        Share of patches centred on foreground.
    balance : {'pixels', 'objects'}
        How those centres are drawn (see :func:`foreground_points`).

    Returns
    -------
    patches : (n, size, size, C) ndarray
    mask_patches : (n, size, size, K) ndarray or None
    """
    image = pad_to(_validate_inputs(image, size), size)
    if mask is not None:
        mask = pad_to(_validate_inputs(mask, size, "mask"), size, mode="constant")
    rng = np.random.default_rng(seed)
    points = (foreground_points(mask, seed=seed, balance=balance) if mask is not None and foreground_fraction > 0
              else None)
    out_i = np.empty((n, size, size, image.shape[2]), image.dtype)
    out_m = None if mask is None else np.empty((n, size, size, mask.shape[2]), mask.dtype)
    for k in range(n):
        y, x = random_patch_corner(image.shape[:2], size, rng, points=points, foreground_fraction=foreground_fraction)
        out_i[k] = image[y:y + size, x:x + size]
        if out_m is not None and mask is not None:
            out_m[k] = mask[y:y + size, x:x + size]
    return out_i, out_m


def grid_patches(image: np.ndarray, size: int) -> np.ndarray:
    """Non-overlapping ``size`` patches covering the image (the last row/column is shifted to fit); ``(N,s,s,C)``."""
    image = pad_to(_validate_inputs(image, size), size)
    ys = _starts(image.shape[0], size, size, 1)
    xs = _starts(image.shape[1], size, size, 1)
    return np.stack([image[y:y + size, x:x + size] for y in ys for x in xs])


def _starts(length: int, tile: int, step: int, align: int) -> list[int]:
    """Tile start positions covering ``length``; every start is a multiple of ``align``."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, max(align, step // align * align)))
    last = (length - tile) // align * align
    if starts[-1] != last:
        starts.append(last)
    return starts


def blend_window(tile: int, overlap: int, *, margin: float | None = None, first: bool = False,
                 last: bool = False) -> np.ndarray:
    """1D blending weights (float32) of one tile.

    Weights are 0 on the outer ``margin`` pixels of an inner edge (where zero padding inside the network makes
    predictions differ from whole-image prediction: the network's receptive-field radius), then rise as ``sin^2``
    over the rest of the overlap so that two neighbours sum to 1 (a smooth partition of unity). Sides touching the
    image border (``first``/``last``) keep full weight. ``margin`` defaults to a quarter of the overlap.
    """
    w = np.ones(tile, np.float32)
    if overlap <= 0 or (first and last):
        return w
    margin = overlap / 4.0 if margin is None else float(margin)
    ramp_len = overlap - 2 * margin
    if ramp_len <= 0:
        raise ValueError(f"`overlap` must exceed twice the margin. Received: overlap={overlap}, margin={margin}")
    d = np.arange(tile, dtype=np.float64) + 0.5

    def ramp(dist: np.ndarray) -> np.ndarray:
        t = np.clip((dist - margin) / ramp_len, 0.0, 1.0)
        return (np.sin(0.5 * np.pi * t) ** 2).astype(np.float32)

    if not first:
        w *= ramp(d)
    if not last:
        w *= ramp(tile - d)
    return w


def _pair(tile: int | tuple[int, int]) -> tuple[int, int]:
    return (int(tile), int(tile)) if isinstance(tile, (int, np.integer)) else (int(tile[0]), int(tile[1]))


def tile_plan(shape: tuple[int, int], tile: int | tuple[int, int], overlap: int, align: int = 1
              ) -> tuple[tuple[int, int], list[int], list[int]]:
    """Tile sides ``(Y, X)`` (multiples of ``align``) and the tile starts along Y and X for an image of ``shape``.

    ``tile`` is one side (square tiles) or ``(Y, X)``; a tile as large as the (aligned) image is the whole image
    in one network call.
    """
    ty, tx = (-(-s // align) * align for s in _pair(tile))
    size_y = max(ty, -(-shape[0] // align) * align)
    size_x = max(tx, -(-shape[1] // align) * align)
    tiled = [side for side, size in ((ty, size_y), (tx, size_x)) if side < size]
    if overlap < 0 or (tiled and overlap >= min(tiled)):
        raise ValueError(f"`overlap` must be in [0, tile). Received: overlap={overlap}, tile={tile}")
    return (ty, tx), _starts(size_y, ty, ty - overlap, align), _starts(size_x, tx, tx - overlap, align)


def _pad_index(n: int, size: int, mode: str) -> np.ndarray:
    """Indices into an axis of length ``n`` that ``np.pad`` (end padding to ``size``) would read."""
    idx = np.arange(size)
    if mode == "reflect" and n > 1:
        idx = np.where(idx < n, idx, 2 * (n - 1) - idx)
    return np.minimum(idx, n - 1)


def _pad_mode(shape: tuple[int, int], size: tuple[int, int]) -> str:
    """How an image of ``shape`` is padded to ``size`` for the network: mirrored, or its edge repeated when the
    padding is as large as the image."""
    return "reflect" if size[0] - shape[0] < shape[0] and size[1] - shape[1] < shape[1] else "edge"


def pad_whole(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (Y, X, C) padded at its end to ``size`` (the aligned image size) exactly as
    :func:`iter_tiled_bands` pads an image that goes through the network in one tile."""
    height, width = image.shape[:2]
    mode = _pad_mode((height, width), size)
    pad = [(0, max(0, size[0] - height)), (0, max(0, size[1] - width))] + [(0, 0)] * (image.ndim - 2)
    image = image[: size[0], : size[1]]
    if not (pad[0][1] or pad[1][1]):
        return image
    # np.pad's "reflect" (the edge pixel not repeated) and "edge" are the index tables of _pad_index, without
    # its fancy indexing (a third of the main thread's time besides the network, at 648 x 848)
    return np.pad(image, pad, mode="reflect" if mode == "reflect" else "edge")


def _weights(starts: list[int], tile: int, overlap: int, size: int, margin: float | None) -> np.ndarray:
    """Sum of the 1D blending windows of all tiles along one axis (the 2D weights are an outer product)."""
    total = np.zeros(size, np.float32)
    for s in starts:
        total[s:s + tile] += blend_window(tile, overlap, margin=margin, first=s == starts[0], last=s == starts[-1])
    return np.maximum(total, np.float32(1e-12))


def iter_tiled_bands(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    tile: int | tuple[int, int] = 256,
    overlap: int = 32,
    *,
    align: int = 1,
    batch_size: int = 4,
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
    margin: float | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Predict an image tile by tile and yield the finished output row by row band, top to bottom.

    Memory is bounded by one band of ``tile`` rows of the output (float32) besides ``image`` itself: no padded or
    normalised copy of the image and no full-size accumulator is made, so the caller can write bands to disk.

    Parameters
    ----------
    predict_fn, tile, overlap, align, batch_size, margin
        See :func:`predict_tiled`.
    image : (Y, X, C) ndarray
        Raw or prepared pixels; may be a memory map.
    prepare : callable, optional
        Applied to each ``(tile, tile, C)`` input tile before ``predict_fn`` (e.g. normalisation).

    Yields
    ------
    y0 : int
        First row of the band.
    band : (rows, X, K) float32 ndarray
        Blended network output of rows ``y0 .. y0 + rows``.
    """
    image = _validate_inputs(image, min(_pair(tile)))
    height, width = image.shape[:2]
    (ty, tx), ys, xs = tile_plan((height, width), tile, overlap, align)
    size_y, size_x = max(ty, -(-height // align) * align), max(tx, -(-width // align) * align)
    mode = _pad_mode((height, width), (size_y, size_x))
    rows_of, cols_of = _pad_index(height, size_y, mode), _pad_index(width, size_x, mode)
    wy, wx = _weights(ys, ty, overlap, size_y, margin), _weights(xs, tx, overlap, size_x, margin)
    acc: np.ndarray | None = None
    for i, y in enumerate(ys):
        rows = rows_of[y:y + ty]
        by = blend_window(ty, overlap, margin=margin, first=i == 0, last=i == len(ys) - 1)
        for j in range(0, len(xs), batch_size):
            chunk = xs[j:j + batch_size]
            tiles = [image[y:y + ty, x:x + tx] if y + ty <= height and x + tx <= width
                     else image[rows[:, None], cols_of[x:x + tx][None, :]] for x in chunk]
            batch = np.stack([prepare(t) if prepare is not None else t for t in tiles]).astype(np.float32, copy=False)
            pred = np.asarray(predict_fn(batch), np.float32)
            if pred.shape[:3] != batch.shape[:3]:
                raise ValueError(f"`predict_fn` must keep the tile size. Received: output shape {pred.shape} for "
                                 f"input {batch.shape}")
            if acc is None:
                acc = np.zeros((ty, size_x, pred.shape[-1]), np.float32)
            for x, p in zip(chunk, pred, strict=True):
                if len(xs) == 1 and len(ys) == 1:  # one tile: the whole image, nothing to blend
                    acc[:, x:x + tx] = p
                    continue
                bx = blend_window(tx, overlap, margin=margin, first=x == xs[0], last=x == xs[-1])
                acc[:, x:x + tx] += p * np.outer(by, bx)[..., None]
        assert acc is not None
        done = (ys[i + 1] if i + 1 < len(ys) else size_y) - y
        end = min(y + done, height)
        if end > y:
            if len(xs) == 1 and len(ys) == 1:
                yield y, acc[:end - y, :width]
            else:
                norm = wy[y:end, None] * wx[None, :width]
                yield y, acc[:end - y, :width] / norm[..., None]
        keep = ty - done
        if keep > 0:
            acc[:keep] = acc[done:done + keep].copy()
        acc[max(keep, 0):] = 0.0


def _whole_image_output(predict_fn: Callable[[np.ndarray], np.ndarray], image: np.ndarray,
                        tile: int | tuple[int, int], overlap: int, align: int,
                        prepare: Callable[[np.ndarray], np.ndarray] | None) -> np.ndarray | None:
    """The output of an image whose plan is a single tile (padded exactly as :func:`iter_tiled_bands` pads it),
    cropped to the image; None when the plan has several tiles.

    The network's output array is returned cropped, not blended into an accumulator: a 648 x 848 image with a
    33-channel output was otherwise copied three times (accumulator, band, result).
    """
    image = _validate_inputs(image, min(_pair(tile)))
    height, width = image.shape[:2]
    (ty, tx), ys, xs = tile_plan((height, width), tile, overlap, align)
    if len(ys) != 1 or len(xs) != 1:
        return None
    size = (max(ty, -(-height // align) * align), max(tx, -(-width // align) * align))
    padded = pad_whole(image, size) if size != (height, width) else image
    batch = (prepare(padded) if prepare is not None else padded)[None].astype(np.float32, copy=False)
    pred = np.asarray(predict_fn(batch), np.float32)
    if pred.shape[:3] != batch.shape[:3]:
        raise ValueError(f"`predict_fn` must keep the tile size. Received: output shape {pred.shape} for "
                         f"input {batch.shape}")
    return np.ascontiguousarray(pred[0, :height, :width])  # a copy only where the width was padded


def predict_tiled(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    tile: int | tuple[int, int] = 256,
    overlap: int = 32,
    out_channels: int | None = None,
    *,
    align: int = 1,
    batch_size: int = 4,
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
    out: np.ndarray | None = None,
    margin: float | None = None,
) -> np.ndarray:
    """Predict a whole image of any size tile by tile, blending overlaps smoothly, with bounded memory.

    Parameters
    ----------
    predict_fn : callable
        Maps a batch ``(B, tile, tile, C)`` float32 to ``(B, tile, tile, K)``.
    image : (Y, X, C) ndarray
    tile : int or (int, int)
        Tile side, or ``(Y, X)`` sides (rounded up to multiples of ``align``); as large as the image: one call.
    overlap : int
        Overlap between neighbouring tiles.
    margin : float, optional
        Predictions within ``margin`` pixels of an inner tile edge are ignored (default ``overlap / 4``); with the
        network's receptive-field radius as margin and ``overlap > 2 * margin`` tiled equals whole-image
        prediction (see :func:`builder.workflow.tiling.plan_tiles`).
    out_channels : int, optional
        ``K``; found from the first batch when left out.
    align : int
        Tile starts are multiples of this (the model's downsampling factor, e.g. 16 for a 4-level U-Net), so pooling
        grids line up with whole-image prediction.
    batch_size : int
        Tiles per call of ``predict_fn``.
    prepare : callable, optional
        Applied to each input tile first (e.g. normalisation), so no prepared copy of the whole image is made.
    out : (Y, X, K) float32 ndarray, optional
        Where to write the result (e.g. a ``np.memmap``); a new array when left out.

    Returns
    -------
    (Y, X, K) float32 ndarray
        ``out`` when given. Besides it, memory use is one band of ``tile`` rows (see :func:`iter_tiled_bands`).
    """
    whole = _whole_image_output(predict_fn, image, tile, overlap, align, prepare)
    if whole is not None:  # one network call: its output, cropped, with no accumulator or band copies
        if out is None:
            return whole
        out[...] = whole
        return out
    for y0, band in iter_tiled_bands(predict_fn, image, tile, overlap, align=align, batch_size=batch_size,
                                     prepare=prepare, margin=margin):
        if out is None:
            out = np.empty((image.shape[0], image.shape[1], out_channels or band.shape[-1]), np.float32)
        out[y0:y0 + band.shape[0]] = band
    assert out is not None
    return out

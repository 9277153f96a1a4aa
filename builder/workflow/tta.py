"""Test-time augmentation: the network output averaged over the eight flips and quarter turns of an image.

A network trained with flip and rotation augmentation should answer the same on a turned image, but it does not
exactly: its outlines wobble by a pixel here and there. Averaging the eight answers (each turned back) smooths
that wobble; it costs eight network passes per image. Only outputs whose channels do not depend on the image's
orientation may be averaged this way (probabilities, distances to the edge, intensities); outputs that hold
directions (star-convex rays) may not: :meth:`builder.tasks.base.Task.orientation_free_output` says which.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: (quarter turns, mirrored) of the eight symmetries of the square, the identity first.
DIHEDRAL: tuple[tuple[int, bool], ...] = tuple((k, flip) for k in range(4) for flip in (False, True))


def _forward(x: np.ndarray, turns: int, flip: bool) -> np.ndarray:
    out = np.rot90(x, turns, axes=(0, 1))
    return out[:, ::-1] if flip else out


def _backward(y: np.ndarray, turns: int, flip: bool) -> np.ndarray:
    out = y[:, ::-1] if flip else y
    return np.rot90(out, -turns, axes=(0, 1))


def dihedral_mean(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Mean of ``predict`` over the eight flips and quarter turns of ``x``, each output turned back.

    Parameters
    ----------
    predict : callable
        ``(Y', X', C) image -> (Y', X', K) output`` on the same grid (any size: turned images swap Y and X).
    x : (Y, X, C) ndarray
        The normalised network input.

    Returns
    -------
    (Y, X, K) ndarray of float32

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(6, dtype=np.float32).reshape(2, 3, 1)
    >>> bool(np.allclose(dihedral_mean(lambda im: im * 2, x), x * 2))
    True
    """
    x = np.asarray(x, np.float32)
    if x.ndim != 3:
        raise ValueError(f"`x` must be (Y, X, C); received shape {x.shape}.")
    total: np.ndarray | None = None
    for turns, flip in DIHEDRAL:
        out = _backward(np.asarray(predict(np.ascontiguousarray(_forward(x, turns, flip))), np.float64), turns, flip)
        total = out if total is None else total + out
    assert total is not None
    return (total / len(DIHEDRAL)).astype(np.float32)

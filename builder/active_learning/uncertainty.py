"""How unsure a model is about one image: entropy, margin and test-time-augmentation (TTA) disagreement.

Plain functions on probability arrays: ``(K,)`` for a classifier, ``(Y, X, K)`` for a pixel classifier.
:func:`tta_outputs` runs a prediction function on flipped and rotated copies of an image and turns the outputs
back, so :func:`uncertainty` can compare them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

#: The test-time augmentations: (name, forward transform on Y,X,C, inverse transform on Y,X,K outputs).
_VIEWS: tuple[tuple[str, Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]], ...] = (
    ("identity", lambda a: a, lambda a: a),
    ("flip_x", lambda a: a[:, ::-1], lambda a: a[:, ::-1]),
    ("flip_y", lambda a: a[::-1], lambda a: a[::-1]),
    ("rot90", lambda a: np.rot90(a, 1, axes=(0, 1)), lambda a: np.rot90(a, -1, axes=(0, 1))),
)
#: Weight of TTA disagreement in :func:`uncertainty`'s ``score`` (entropy counts 1).
TTA_WEIGHT = 1.0


def _validate_probabilities(p: np.ndarray, arg_name: str = "probabilities") -> np.ndarray:
    p = np.asarray(p, np.float64)
    if p.ndim not in (1, 3) or p.shape[-1] < 2:
        raise ValueError(f"Invalid value received for argument `{arg_name}`. Expected (K,) or (Y, X, K) "
                         f"probabilities with K >= 2. Received: {arg_name}.shape={p.shape}")
    return p


def entropy(p: np.ndarray) -> np.ndarray:
    """Entropy of the class probabilities along the last axis, divided by ``log(K)`` (0 sure, 1 uniform).

    Parameters
    ----------
    p : (..., K) ndarray
        Probabilities (rows sum to 1).

    Returns
    -------
    (...) ndarray
    """
    p = np.clip(np.asarray(p, np.float64), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=-1) / np.log(p.shape[-1])


def margin(p: np.ndarray) -> np.ndarray:
    """``1 - (p_best - p_second)`` along the last axis: 0 when one class wins clearly, 1 on a tie."""
    top = np.sort(np.asarray(p, np.float64), axis=-1)
    return 1.0 - (top[..., -1] - top[..., -2])


def disagreement(views: Sequence[np.ndarray]) -> np.ndarray:
    """Mean total-variation distance between each view's probabilities and their average (0: all agree).

    Parameters
    ----------
    views : sequence of (..., K) ndarray
        The same image's probabilities under different test-time augmentations (already turned back).
    """
    stack = np.stack([np.asarray(v, np.float64) for v in views])
    mean = stack.mean(axis=0)
    return 0.5 * np.abs(stack - mean).sum(axis=-1).mean(axis=0)


def tta_outputs(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *, pixel_output: bool,
                views: int = len(_VIEWS)) -> list[np.ndarray]:
    """``predict`` on ``views`` flipped/rotated copies of ``x`` (Y, X, C), outputs mapped back to ``x``'s grid.

    ``predict`` takes one ``(Y, X, C)`` image and returns ``(K,)`` or ``(Y, X, K)`` probabilities.
    Non-square images skip the 90° rotation for pixel outputs.
    """
    out = []
    for _, forward, inverse in _VIEWS[:max(1, views)]:
        moved = np.ascontiguousarray(forward(x))
        if pixel_output and moved.shape[:2] != x.shape[:2]:
            continue
        y = np.asarray(predict(moved), np.float64)
        out.append(np.ascontiguousarray(inverse(y)) if pixel_output else y)
    return out


def uncertainty(views: Sequence[np.ndarray], *, top_fraction: float = 1.0) -> dict[str, float]:
    """Image-level uncertainty from one or more views of the model's probabilities.

    Parameters
    ----------
    views : sequence of (K,) or (Y, X, K) ndarray
        The first is the plain prediction; the others are test-time augmentations (see :func:`tta_outputs`).
    top_fraction : float
        For pixel outputs, average over this fraction of the most uncertain pixels (1: all pixels), so a few
        unsure cells in a mostly empty image still count.

    Returns
    -------
    dict
        ``entropy``, ``margin``, ``tta`` (disagreement; 0 with one view) and ``score`` = entropy +
        ``TTA_WEIGHT`` x tta: higher means "annotate this first".
    """
    if not views:
        raise ValueError("Invalid value received for argument `views`. Expected at least one output. Received: 0")
    if not 0.0 < top_fraction <= 1.0:
        raise ValueError(f"Invalid value received for argument `top_fraction`. Expected a float in (0, 1]. "
                         f"Received: top_fraction={top_fraction}")
    first = _validate_probabilities(views[0])
    mean = np.mean([_validate_probabilities(v, "views") for v in views], axis=0) if len(views) > 1 else first

    def pool(values: np.ndarray) -> float:
        flat = np.sort(np.ravel(values))
        keep = max(1, int(round(top_fraction * flat.size)))
        return float(flat[-keep:].mean())

    tta = pool(disagreement(views)) if len(views) > 1 else 0.0
    ent = pool(entropy(mean))
    return {"entropy": ent, "margin": pool(margin(mean)), "tta": tta, "score": ent + TTA_WEIGHT * tta}

"""Sub-pixel registration of a network's output to the masks it was trained on.

Some ground truths sit a fraction of a pixel off the cells they outline, always the same way (measured on
Fluo-N2DH-SIM+: masks about half a pixel down and right of the nuclei). A network trained with flips and turns
cannot learn such an offset (a flip turns +d into -d), so every outline it draws is off by it. The tuning measures
the mean offset of the objects found on the validation images from the true cells they match, and shifts the
network's output (probabilities, linearly interpolated) by the opposite amount before post-processing, when that
raises the validation SEG by more than a margin; otherwise the shift stays 0 (see :func:`shift_output` for how
each map moves). The shift is stored with the other
tuned settings (``postprocess.json``: ``shift_y``, ``shift_x`` in pixels of the image) and applied by evaluate and
predict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import ndimage as ndi

#: The settings (pixels, + = down / right) that move the output before post-processing.
SHIFT_KEYS = ("shift_y", "shift_x")

#: Largest shift tried (pixels): a larger offset is not a registration error but a wrong ground truth.
MAX_SHIFT = 2.0

#: Shifts are rounded to this step (pixels), so that a shift is stored the same way it is tried.
SHIFT_STEP = 0.05

#: How many times the offset left after shifting is measured again and added.
ROUNDS = 2


def _moved(a: np.ndarray, shift_y: float, shift_x: float, order: int) -> np.ndarray:
    shift = (float(shift_y), float(shift_x)) + (0.0,) * (a.ndim - 2)
    return np.asarray(ndi.shift(a, shift, order=order, mode="nearest"), np.float32)


def shift_output(output: np.ndarray, shift_y: float = 0.0, shift_x: float = 0.0, target: str = "three_class"
                 ) -> np.ndarray:
    """``output`` (Y, X, K) moved by (``shift_y``, ``shift_x``) pixels (the edge values repeat at the border); the
    same array when both are 0.

    Only the map that sets the objects' extent moves by the fraction of a pixel (linear interpolation): the map
    the seeds and the watershed come from moves by whole pixels, because interpolating it blurs the dip between two
    touching cells and can join their seeds. Three-class: background moves by the fraction, interior by whole
    pixels (background at most 1 - interior), boundary = 1 - background - interior. Distance: the outer distance
    (channel 1) moves by the fraction, the inner distance by whole pixels. Other outputs move by the fraction.
    """
    if not (shift_y or shift_x):
        return output
    a = np.asarray(output, np.float32)
    whole = _moved(a, round(float(shift_y)), round(float(shift_x)), order=0)
    if a.ndim == 3 and target == "three_class" and a.shape[-1] == 3:
        interior = whole[..., 2]
        background = np.minimum(_moved(a[..., 0], shift_y, shift_x, order=1), 1.0 - interior)
        return np.stack([background, 1.0 - background - interior, interior], axis=-1)
    if a.ndim == 3 and target == "distance" and a.shape[-1] == 2:
        return np.stack([whole[..., 0], _moved(a[..., 1], shift_y, shift_x, order=1)], axis=-1)
    return _moved(a, shift_y, shift_x, order=1)


def matched_offsets(truths: Sequence[np.ndarray], preds: Sequence[np.ndarray]) -> np.ndarray:
    """(N, 2) centroid offsets (predicted minus true, y then x) of the true cells with a predicted object that
    covers more than half of them (the CTC SEG match). Cells with labels <= 0 are not used."""
    out: list[np.ndarray] = []
    for truth, pred in zip(truths, preds, strict=True):
        truth = np.asarray(truth, np.int64)
        pred = np.asarray(pred, np.int64)
        labels = np.unique(truth[truth > 0])
        if labels.size == 0 or not (pred > 0).any():
            continue
        true_centres = np.asarray(ndi.center_of_mass(np.ones(truth.shape), truth, labels))
        for k, label in enumerate(labels):
            under = pred[truth == label]
            counts = np.bincount(under[under > 0]) if (under > 0).any() else np.zeros(1, np.int64)
            best = int(np.argmax(counts))
            if best and counts[best] > 0.5 * under.size:
                out.append(np.asarray(ndi.center_of_mass(pred == best)) - true_centres[k])
    return np.asarray(out, np.float64).reshape(-1, 2)


def _rounded(value: float) -> float:
    return round(float(np.clip(round(value / SHIFT_STEP) * SHIFT_STEP, -MAX_SHIFT, MAX_SHIFT)), 2) + 0.0  # no -0.0


def tune_shift(labelled: Callable[[float, float], list[np.ndarray]], truths: Sequence[np.ndarray],
               seg_fn: Callable[[list[Any], list[np.ndarray]], float], margin: float) -> dict[str, Any]:
    """The output shift that registers the found objects with the true cells of the validation images.

    Parameters
    ----------
    labelled : callable
        ``(shift_y, shift_x) -> predicted label images`` of the validation images, post-processed with the
        chosen settings after shifting the output.
    truths : list of (Y, X) arrays
        True instance labels of the same images.
    seg_fn : callable
        ``(truths, predicted labels) -> SEG`` (higher is better).
    margin : float
        How much the validation SEG must rise for the shift to be kept.

    Returns
    -------
    dict
        ``shift_y``, ``shift_x`` (0 unless kept), ``shift_seg`` (SEG with the kept shift), ``start_shift_seg``
        (SEG unshifted), ``shift_measured`` ([y, x], the shift the offsets called for) and ``shift_objects``
        (cells the first offset was measured on).
    """
    preds = labelled(0.0, 0.0)
    start = float(seg_fn(list(truths), preds))
    offsets = matched_offsets(truths, preds)
    n = int(len(offsets))
    shift = (0.0, 0.0)
    seg = start
    for _ in range(ROUNDS if n else 0):
        mean = offsets.mean(axis=0)
        candidate = (_rounded(shift[0] - mean[0]), _rounded(shift[1] - mean[1]))
        if candidate == shift:
            break
        shift = candidate
        preds = labelled(*shift)
        seg = float(seg_fn(list(truths), preds))
        offsets = matched_offsets(truths, preds)
        if not len(offsets):
            break
    kept = shift if seg > start + margin else (0.0, 0.0)
    return {"shift_y": kept[0], "shift_x": kept[1], "shift_seg": seg if kept != (0.0, 0.0) else start,
            "start_shift_seg": start, "shift_measured": list(shift), "shift_objects": n}


def shift_of(params: Mapping[str, Any]) -> tuple[float, float]:
    """(shift_y, shift_x) of post-processing settings (0 where absent)."""
    return float(params.get("shift_y") or 0.0), float(params.get("shift_x") or 0.0)

"""Per-frame matching of computed objects to reference objects, as the Cell Tracking Challenge defines it.

A reference object R is matched by the computed object C that covers more than half of R's pixels
(|R ∩ C| > 0.5 |R|); so each R has at most one C, while one C may cover several R (a merge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FrameMatch:
    """Objects of one frame and which computed label covers each reference label.

    Attributes
    ----------
    ref, comp : tuple of int
        Labels present in the reference and in the computed image.
    pairs : dict
        Reference label -> (computed label, IoU), for matched reference objects only.
    """

    ref: tuple[int, ...]
    comp: tuple[int, ...]
    pairs: dict[int, tuple[int, float]]

    def times_matched(self) -> dict[int, int]:
        """Computed label -> how many reference objects it covers (absent: 0)."""
        out: dict[int, int] = {}
        for c, _ in self.pairs.values():
            out[c] = out.get(c, 0) + 1
        return out


def match_frame(ref: np.ndarray, comp: np.ndarray) -> FrameMatch:
    """Match the objects of two label images of the same shape (see the module docstring)."""
    ref = np.asarray(ref).astype(np.int64, copy=False).ravel()
    comp = np.asarray(comp).astype(np.int64, copy=False).ravel()
    if ref.shape != comp.shape:
        raise ValueError(f"Reference and computed masks differ in size. Received: {ref.shape} and {comp.shape}")
    ref_labels = np.unique(ref)
    comp_labels = np.unique(comp)
    ref_labels, comp_labels = ref_labels[ref_labels > 0], comp_labels[comp_labels > 0]
    pairs: dict[int, tuple[int, float]] = {}
    if len(ref_labels) and len(comp_labels):
        ri = np.searchsorted(ref_labels, ref[ref > 0])
        ref_area = np.bincount(ri, minlength=len(ref_labels))
        ci_all = np.searchsorted(comp_labels, comp[comp > 0])
        comp_area = np.bincount(ci_all, minlength=len(comp_labels))
        both = (ref > 0) & (comp > 0)
        code = np.searchsorted(ref_labels, ref[both]) * len(comp_labels) + np.searchsorted(comp_labels, comp[both])
        codes, inter = np.unique(code, return_counts=True)
        for k, n in zip(codes, inter, strict=True):
            r, c = divmod(int(k), len(comp_labels))
            if n > 0.5 * ref_area[r]:
                iou = n / (ref_area[r] + comp_area[c] - n)
                pairs[int(ref_labels[r])] = (int(comp_labels[c]), float(iou))
    return FrameMatch(tuple(int(x) for x in ref_labels), tuple(int(x) for x in comp_labels), pairs)

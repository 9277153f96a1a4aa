"""How far each nucleus's intensity centroid sits from its ground-truth mask's centroid (run by hand).

A fixed offset between images and masks cannot be learned under flip augmentation (a flip turns +d into -d), so
it caps the SEG score any model reaches. Usage::

    python tests/benchmarks/simplus_gt_offset.py ../shared/realdata/ctc_Fluo-N2DH-SIM+_01 [--frames 20]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi


def centroid_offsets(image: np.ndarray, labels: np.ndarray, margin: int = 3) -> list[tuple[float, float]]:
    """(dy, dx) per object: centroid of background-subtracted intensity near the object minus the mask's centroid."""
    weight = np.clip(image.astype(np.float64) - np.median(image), 0, None)
    offsets = []
    for label in np.unique(labels)[1:]:
        mask = labels == label
        near = ndi.binary_dilation(mask, iterations=margin)
        cy, cx = ndi.center_of_mass(weight * near)
        my, mx = ndi.center_of_mass(mask)
        offsets.append((cy - my, cx - mx))
    return offsets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sequence", type=Path, help="a CTC sequence folder holding 01/ and 01_GT/SEG/")
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args()
    offsets: list[tuple[float, float]] = []
    for seg in sorted((args.sequence / "01_GT" / "SEG").glob("man_seg*.tif"))[: args.frames]:
        frame = seg.stem.removeprefix("man_seg")
        offsets += centroid_offsets(tifffile.imread(args.sequence / "01" / f"t{frame}.tif"), tifffile.imread(seg))
    d = np.asarray(offsets)
    print(f"{len(d)} objects: image minus mask centroid, dy mean {d[:, 0].mean():.2f} px (median "
          f"{np.median(d[:, 0]):.2f}), dx mean {d[:, 1].mean():.2f} px (median {np.median(d[:, 1]):.2f})")


if __name__ == "__main__":
    main()

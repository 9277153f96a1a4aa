"""Star-convex post-processing on the network's grid vs at full size: same labels? how much faster? (by hand)

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python tests/benchmarks/star_grid_nms.py [--diameter 23.7 --target 15]

A nuclei-like star output is made from the real DSB mask (``../shared/realdata/dsb2018_one_image``, mirrored to
1024 x 1344; constructed touching disks when the data is missing): the mask is shrunk to the network's grid
(``target / diameter``, as ``preprocess.object_diameter`` does) and its star-convex target computed there, which is
what a perfect network at object scale outputs. Three ways to labels at the image's size, each timed (median of 3):

* ``old``: the path before: all 33 channels interpolated to the image's size (rays times the zoom), then
  suppression there with scikit-image's polygon filler;
* ``full``: the same with the vectorised filler (:mod:`builder.tasks.star_raster`);
* ``grid``: suppression on the grid, kept polygons drawn at the image's size (:class:`ZoomedOutput`).

Printed: objects, seconds, and ``old`` vs ``grid`` agreement (F1 and mean matched IoU at IoU 0.5, objects of one
taken as the truth of the other) plus each one's F1@0.5 / AP@0.5 against the true mask. ``--diameter 0`` runs
at full resolution (grid = image: only the filler differs).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "dsb2018_one_image"
SHAPE = (1024, 1344)


def true_mask(shape: tuple[int, int] = SHAPE) -> tuple[np.ndarray, str]:
    """The DSB mask mirrored to ``shape`` (or touching disks of diameter 24 when the data is missing)."""
    if (REALDATA / "mask2d.tif").exists():
        import tifffile

        mask = tifffile.imread(REALDATA / "mask2d.tif").astype(np.int64)
        reps = (-(-shape[0] // mask.shape[0]), -(-shape[1] // mask.shape[1]))
        rows = []
        for i in range(reps[0]):
            row = []
            for j in range(reps[1]):
                tile = mask[::1 - 2 * (i % 2), ::1 - 2 * (j % 2)]
                row.append(np.where(tile > 0, tile + (i * reps[1] + j) * (int(mask.max()) + 1), 0))
            rows.append(row)
        return np.block(rows)[: shape[0], : shape[1]], "DSB2018 mask mirrored"
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int64)
    rng = np.random.default_rng(0)
    for n, (cy, cx) in enumerate(rng.uniform(12, np.array(shape) - 12, (700, 2)), start=1):
        disk = (np.hypot(yy - cy, xx - cx) <= 12) & (labels == 0)
        labels[disk] = n
    return labels, "constructed disks"


def old_nms(prob: np.ndarray, dist: np.ndarray, threshold: float, nms_threshold: float, min_area: float
            ) -> np.ndarray:
    """The suppression as it was: scikit-image's polygon filler (with its ``shape`` clipping) per proposal."""
    from skimage.draw import polygon

    from builder.tasks.star_convex import polygon_vertices
    from builder.tasks.star_nms import polygon_areas

    labels = np.zeros(prob.shape, np.int32)
    ys, xs = np.nonzero(prob > threshold)
    big = polygon_areas(dist[ys, xs]) >= min_area
    ys, xs = ys[big], xs[big]
    n = 0
    for i in np.argsort(-prob[ys, xs], kind="stable"):
        y, x = ys[i], xs[i]
        if labels[y, x]:
            continue
        rr, cc = polygon(*polygon_vertices(y, x, dist[y, x]), prob.shape)
        if rr.size == 0:
            rr, cc = np.array([int(y)]), np.array([int(x)])
        free = labels[rr, cc] == 0
        if 1.0 - free.mean() > nms_threshold:
            continue
        n += 1
        labels[rr[free], cc[free]] = n
    return labels


def finish(labels: np.ndarray, min_size: int) -> np.ndarray:
    from skimage.segmentation import relabel_sequential

    small = np.bincount(labels.ravel()) < min_size
    small[0] = False
    labels[small[labels]] = 0
    return relabel_sequential(labels)[0]


def timed(fn):
    times, out = [], None
    for _ in range(3):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def main() -> None:
    from builder.data.preprocess import resize_yx
    from builder.tasks.metrics.instances import instance_metrics
    from builder.tasks.star_convex import star_convex_target
    from builder.tasks.star_nms import MIN_AREA, instances_from_star
    from builder.tasks.zoomed_output import ZoomedOutput

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diameter", type=float, default=23.7)
    parser.add_argument("--target", type=float, default=15.0)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--nms-threshold", type=float, default=0.4)
    parser.add_argument("--min-size", type=int, default=10)
    args = parser.parse_args()
    truth, source = true_mask()
    scale = args.target / args.diameter if args.diameter else 1.0
    grid_shape = (int(round(SHAPE[0] * scale)), int(round(SHAPE[1] * scale)))
    grid_truth = resize_yx(truth, grid_shape, order=0)
    grid = np.maximum(star_convex_target(grid_truth), 0.0)  # a perfect network's output on its grid
    zoom = float(np.mean(np.divide(SHAPE, grid_shape)))

    def enlarge(out: np.ndarray) -> np.ndarray:
        full = resize_yx(out, SHAPE, order=1)
        full[..., 1:] *= zoom
        return full

    settings = {"threshold": args.threshold, "nms_threshold": args.nms_threshold, "min_size": args.min_size}

    def old() -> np.ndarray:
        full = enlarge(grid) if grid_shape != SHAPE else grid
        return finish(old_nms(full[..., 0], full[..., 1:], args.threshold, args.nms_threshold,
                              max(float(args.min_size), MIN_AREA)), args.min_size)

    def full() -> np.ndarray:
        return instances_from_star(enlarge(grid) if grid_shape != SHAPE else grid, **settings)

    def on_grid() -> np.ndarray:
        out = ZoomedOutput(grid, SHAPE, enlarge) if grid_shape != SHAPE else grid
        return instances_from_star(out, **settings)

    print(f"{source}, image {SHAPE[0]}x{SHAPE[1]}, network grid {grid_shape[0]}x{grid_shape[1]} "
          f"(zoom {zoom:.3f}), {len(np.unique(truth)) - 1} true objects")
    results = {}
    for name, fn in (("old", old), ("full", full), ("grid", on_grid)):
        seconds, labels = timed(fn)
        m = instance_metrics(truth, labels, (0.5,))
        results[name] = labels
        print(f"{name:5s}: {int(labels.max()):4d} objects, {seconds:.3f} s; vs truth F1@0.5 {m['f1@0.5']:.4f} "
              f"AP@0.5 {m['ap@0.5']:.4f} matched IoU {m['mean_matched_iou']:.4f}")
    for a, b in (("old", "full"), ("old", "grid")):
        m = instance_metrics(results[a], results[b], (0.5,))
        same = float(np.mean((results[a] > 0) == (results[b] > 0)))
        print(f"{b} vs {a}: F1@0.5 {m['f1@0.5']:.4f}, mean matched IoU {m['mean_matched_iou']:.4f}, "
              f"foreground agreement {same:.4f}")


if __name__ == "__main__":
    main()

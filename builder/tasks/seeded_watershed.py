"""Seeded watershed that floods only where it has a choice to make.

The instance post-processing (:mod:`builder.tasks.instances`) grows connected seed blobs over the foreground. A
foreground region (4-connected, like the flooding) that holds one seed becomes that seed's object whatever the
heights, and one without seeds becomes an object of its own; only regions with two or more seeds need the
watershed's priority flood, and there only the pixels outside the seeds and the seeds' edge pixels (a seed's inner
pixels have nothing left to flood). On nuclei :func:`seeded_watershed` queues about a ninth of the pixels it used
to, and renumbers the objects with one lookup table instead of ``relabel_sequential``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def _region_labels(seeds: np.ndarray, n_seeds: int, regions: np.ndarray, n_regions: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per foreground region: its label (its only seed's; ``n_seeds + k`` for the k-th seedless region; 0 for
    regions with several seeds) and whether it holds several seeds."""
    region_of_seed = np.zeros(n_seeds + 1, np.intp)
    where = np.flatnonzero(seeds)
    region_of_seed[seeds.ravel()[where]] = regions.ravel()[where]  # a seed lies inside one region
    per_region = np.bincount(region_of_seed[1:], minlength=n_regions + 1)
    label = np.zeros(n_regions + 1, np.int64)
    alone = per_region[region_of_seed] == 1
    alone[0] = False
    label[region_of_seed[alone]] = np.flatnonzero(alone)
    seedless = per_region == 0
    seedless[0] = False
    label[seedless] = n_seeds + np.arange(1, int(seedless.sum()) + 1)
    return label, per_region > 1


def _seed_edges(seeds: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of another value (seed pixels that can flood their neighbours)."""
    edges = np.zeros(seeds.shape, bool)
    for axis in (0, 1):
        head = [slice(None)] * 2
        tail = [slice(None)] * 2
        head[axis], tail[axis] = slice(1, None), slice(None, -1)
        differs = seeds[tuple(head)] != seeds[tuple(tail)]
        edges[tuple(head)] |= differs
        edges[tuple(tail)] |= differs
    return edges


def seeded_watershed(height: np.ndarray, seed_map: np.ndarray, foreground: np.ndarray, min_size: int) -> np.ndarray:
    """Watershed of ``-height`` from connected seed regions, restricted to ``foreground``.

    Foreground regions without any seed become objects of their own (numbered after the seeds, in raster order);
    objects below ``min_size`` pixels are removed and the rest numbered 1..N in their order. The same labels as
    ``skimage.segmentation.watershed(-height, ndi.label(seed_map & foreground)[0], mask=foreground)`` followed by
    those two steps, except where two different seeds' pixels of exactly equal height border the same pixel (the
    order in which the flood takes such ties may differ).

    Parameters
    ----------
    height : (Y, X) ndarray of float
        Higher is more central (flooded from the top).
    seed_map, foreground : (Y, X) ndarray of bool
    min_size : int
        Smallest object kept, in pixels.

    Returns
    -------
    (Y, X) ndarray of int32
    """
    from skimage.segmentation import watershed

    seeds, n_seeds = ndi.label(seed_map & foreground)
    regions, n_regions = ndi.label(foreground)
    label, crowded = _region_labels(seeds, n_seeds, regions, n_regions)
    labels = label[regions]
    if crowded.any():
        inside = (labels == 0) & foreground  # the regions with several seeds
        flood = inside & ((seeds == 0) | _seed_edges(seeds))  # a seed's inner pixels can flood nothing
        flooded = watershed(-height, np.where(flood, seeds, 0), mask=flood)
        labels[inside] = np.where(seeds > 0, seeds, flooded)[inside]
    sizes = np.bincount(labels.ravel())
    keep = (sizes > 0) & (sizes >= min_size)
    keep[0] = False
    renumber = np.cumsum(keep, dtype=np.int64) * keep
    return renumber.astype(np.int32)[labels]

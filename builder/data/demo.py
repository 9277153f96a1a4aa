"""Built-in demo data: realistic synthetic microscopy for every task, written as ready-to-use folders.

``make_demo(kind, out_dir)`` writes one of the kinds in :data:`DEMO_KINDS` (TIFF files with the pixel size in the
ImageJ metadata, plus a ``README.txt`` saying what the folder holds). Output is seeded: the same ``seed`` gives the
same pixels, and image ``i`` depends only on ``(seed, kind, i)``, so asking for more images keeps the first ones.

The drawing code lives in small modules: :mod:`builder.data.demo_nuclei`, :mod:`builder.data.demo_cells`,
:mod:`builder.data.demo_pairs`, :mod:`builder.data.demo_timelapse` (shared primitives in
:mod:`builder.data.demo_draw`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from builder.data.demo_kinds import DEMO_KINDS, DemoKind
from builder.errors import DataError

__all__ = ["DEMO_KINDS", "DemoKind", "make_demo"]

README_MARK = "Cellwright demo data"


_KIND_INDEX = {name: i for i, name in enumerate(DEMO_KINDS)}


def _rng(seed: int, kind: str, index: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), _KIND_INDEX[kind], int(index)])


def _prepare(out_dir: Path, spec: DemoKind, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(str(out_dir), "this path is a file, expected a folder for the demo data",
                        "give the path of a new or empty folder")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise DataError(str(out_dir), "the folder is not empty; demo data would mix with the files there",
                            "choose a new folder, or use --force (force=True) to write into it anyway")
        readme = out_dir / "README.txt"
        if readme.exists() and README_MARK in readme.read_text(errors="replace"):
            # Earlier demo output: remove only the folders a demo writes, so no stale images stay behind.
            for name in {f for k in DEMO_KINDS.values() for f in k.folders}:
                if (out_dir / name).is_dir():
                    shutil.rmtree(out_dir / name)
    out_dir.mkdir(parents=True, exist_ok=True)


def _readme(spec: DemoKind, n: int, size: int, seed: int, layout: str) -> str:
    return (
        f"{README_MARK}: {spec.name}\n"
        f"{'=' * (len(README_MARK) + len(spec.name) + 2)}\n\n"
        f"What: {spec.summary}.\n"
        f"Task: {spec.task}.\n"
        f"Made by: cellwright demo-data {spec.name} OUT --n {n} --size {size} --seed {seed}\n"
        f"Pixel size: {spec.pixel_size_um} um (stored in each TIFF's ImageJ metadata).\n"
        f"All images are synthetic (generated, not recorded); the same command gives the same pixels.\n\n"
        f"Layout:\n{layout}\n"
    )


def make_demo(
    kind: str,
    out_dir: str | Path,
    *,
    n_images: int | None = None,
    size: int | None = None,
    seed: int = 0,
    force: bool = False,
) -> Path:
    """Write the demo data set ``kind`` into ``out_dir`` and return ``out_dir``.

    Parameters
    ----------
    kind : str
        One of :data:`DEMO_KINDS`: ``nuclei``, ``cells``, ``denoise``, ``label_free``, ``timelapse``.
    out_dir : str or Path
        Folder to create (or an empty folder).
    n_images : int, optional
        Number of images (``cells``: crops per class; ``timelapse``: frames). Default per kind (24, 40, 16, 16, 20).
    size : int, optional
        Image side in pixels (``cells``: crop side). Default 128 (``cells``: 64). At least 16.
    seed : int
        Random seed; the same seed gives byte-identical images.
    force : bool
        Write into a non-empty folder. Earlier demo output found there (a README.txt made by this function) is
        replaced; other files are left alone.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    DataError
        Unknown kind, bad counts or sizes, or a non-empty folder without ``force``.
    """
    if kind not in DEMO_KINDS:
        raise DataError("demo-data", f"unknown demo kind {kind!r}",
                        f"use one of: {', '.join(DEMO_KINDS)}")
    spec = DEMO_KINDS[kind]
    n = spec.n_images if n_images is None else int(n_images)
    side = spec.size if size is None else int(size)
    if n < 1:
        raise DataError("demo-data --n", f"asked for {n} {spec.count_means}", "use --n 1 or more")
    if side < 16 or side > 4096:
        raise DataError("demo-data --size", f"asked for images of {side} pixels", "use a size from 16 to 4096")
    out = Path(out_dir)
    _prepare(out, spec, force)
    layout = _WRITERS[kind](out, spec, n, side, seed)
    (out / "README.txt").write_text(_readme(spec, n, side, seed, layout))
    return out


def _write_nuclei(out: Path, spec: DemoKind, n: int, side: int, seed: int) -> str:
    from builder.data.demo_draw import write_tiff
    from builder.data.demo_nuclei import make_nuclei_image

    for i in range(n):
        image, labels = make_nuclei_image(_rng(seed, spec.name, i), (side, side))
        write_tiff(out / "images" / f"nuclei_{i:03d}.tif", image, spec.pixel_size_um)
        write_tiff(out / "masks" / f"nuclei_{i:03d}.tif", labels, spec.pixel_size_um)
    return (
        f"  images/nuclei_NNN.tif  {n} fluorescence images, {side}x{side}, uint16 camera counts (offset 100)\n"
        f"  masks/nuclei_NNN.tif   instance labels, uint16 (0 = background, 1..N = one nucleus each),\n"
        f"                         same file names as images/\n"
    )


def _write_cells(out: Path, spec: DemoKind, n: int, side: int, seed: int) -> str:
    from builder.data.demo_cells import CELL_CLASSES, make_cell_crop
    from builder.data.demo_draw import write_tiff

    for c, name in enumerate(CELL_CLASSES):
        for i in range(n):
            crop = make_cell_crop(_rng(seed, spec.name, c * 1_000_000 + i), name, side)
            write_tiff(out / name / f"{name}_{i:03d}.tif", crop, spec.pixel_size_um)
    lines = "".join(f"  {name}/  {n} crops: {text}\n" for name, text in CELL_CLASSES.items())
    return lines + f"  Each crop is {side}x{side}, grey, uint16 camera counts; the folder name is the class.\n"


def _write_pairs(out: Path, spec: DemoKind, n: int, side: int, seed: int) -> str:
    from builder.data.demo_draw import write_tiff
    from builder.data.demo_pairs import make_denoise_pair, make_label_free_pair

    make = make_denoise_pair if spec.name == "denoise" else make_label_free_pair
    for i in range(n):
        image, target = make(_rng(seed, spec.name, i), (side, side))
        write_tiff(out / "images" / f"{spec.name}_{i:03d}.tif", image, spec.pixel_size_um)
        write_tiff(out / "targets" / f"{spec.name}_{i:03d}.tif", target, spec.pixel_size_um)
    if spec.name == "denoise":
        return (
            f"  images/   {n} noisy images, {side}x{side}, uint16 (low light: a few photons per pixel)\n"
            f"  targets/  the clean images, float32, same units (the expected value of each noisy pixel)\n"
        )
    return (
        f"  images/   {n} phase-contrast-like images, {side}x{side}, uint16 (no stain: dark cells, bright halos)\n"
        f"  targets/  nuclear-stain fluorescence of the same field, uint16 (what a label-free model predicts)\n"
    )


def _write_timelapse(out: Path, spec: DemoKind, n: int, side: int, seed: int) -> str:
    from builder.data.demo_timelapse import check_ctc_sequence, simulate_timelapse, write_ctc

    images, labels, parents = simulate_timelapse(_rng(seed, spec.name, 0), (side, side), n)
    rows = write_ctc(out, images, labels, parents, pixel_size_um=spec.pixel_size_um)
    problems = check_ctc_sequence(out)
    if problems:  # a bug in the generator, not a user error
        raise RuntimeError("demo time-lapse is inconsistent: " + "; ".join(problems[:5]))
    divisions = len({p for *_, p in rows if p})
    return (
        f"  01/tNNN.tif                 {n} frames, {side}x{side}, uint16 fluorescence (one frame per time point)\n"
        f"  01_GT/TRA/man_trackNNN.tif  label images: each value is a track id\n"
        f"  01_GT/TRA/man_track.txt     one line per track: L B E P (label, first frame, last frame, parent or 0)\n"
        f"  01_GT/SEG/man_segNNN.tif    full instance segmentations for every 5th frame\n"
        f"  This sequence has {len(rows)} tracks and {divisions} divisions (Cell Tracking Challenge format).\n"
    )


_WRITERS = {
    "nuclei": _write_nuclei,
    "cells": _write_cells,
    "denoise": _write_pairs,
    "label_free": _write_pairs,
    "timelapse": _write_timelapse,
}

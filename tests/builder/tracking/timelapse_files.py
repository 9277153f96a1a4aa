"""Tiny time-lapses written as OME-TIFF / OME-Zarr files with a T axis, for the tracking input tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from tests.builder.tracking.drawing import draw


def moving_cells(n_frames: int = 6, shape: tuple[int, int] = (48, 48)) -> tuple[np.ndarray, np.ndarray]:
    """(frames uint16 (T, Y, X), labels int32 (T, Y, X)): two discs drifting right, labels 1 and 2 in every frame."""
    labels = draw([[(14, 10 + 2 * t, 5), (34, 30 - t, 6)] for t in range(n_frames)], shape)
    rng = np.random.default_rng(0)
    frames = (labels > 0) * 600 + 100 + rng.integers(0, 30, labels.shape) + np.arange(n_frames)[:, None, None]
    return frames.astype(np.uint16), labels


def write_ome_tiff(path: Path, stack: np.ndarray) -> Path:
    """``stack`` (T, Y, X) as an OME-TIFF with axes TYX."""
    tifffile.imwrite(path, stack, ome=True, metadata={"axes": "TYX"})
    return path


def write_ome_zarr(path: Path, stack: np.ndarray) -> Path:
    """``stack`` (T, Y, X) as an OME-Zarr v0.5 image with axes t, y, x."""
    import zarr

    group = zarr.open_group(str(path), mode="w")
    array = group.create_array("0", shape=stack.shape, dtype=stack.dtype, chunks=(1, *stack.shape[1:]))
    array[...] = stack
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "axes": [{"name": "t", "type": "time"}, {"name": "y", "type": "space", "unit": "micrometer"},
                 {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 0.5, 0.5]}]}]}]}
    return path

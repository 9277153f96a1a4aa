"""Predict large images straight into TIFF files, so memory does not grow with the image area.

Used by ``cellwright predict`` for tasks whose post-processing works pixel by pixel (``Task.streams_prediction``:
masks, restored images) when no resampling is needed. Tiles are normalised one by one (statistics from training,
or from the image by :func:`builder.data.image_stats.image_stats`), the network output comes back band by band
(:func:`builder.data.patches.iter_tiled_bands`), the task turns each band into its output arrays
(``Task.interpret`` and ``Task.prediction_planes``), and each is appended to a temporary raw file per plane; the
TIFFs are then written strip by strip from those files.
Besides the image itself, memory is a few bands of ``preprocess.tile.size`` rows (or one network output, for
images that fit in memory in one call: see :mod:`builder.workflow.tiling`). Results equal
:func:`builder.workflow.inference.predict_image` (float32 round-off).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: Bytes per TIFF strip when writing.
STRIP_BYTES = 1 << 18


def can_stream(recipe: Recipe, pixel_size: float | None, diameter: float | None = None) -> bool:
    """True if ``predict`` can stream this image: a pixel-wise task, no rescaling (to another pixel size or
    object diameter; ``diameter`` is the image's object diameter in px) and no ``evaluate.postprocess.tta``."""
    from builder.data.preprocess import grid_factor
    from builder.errors import DataError
    from builder.tasks import get_task

    if not get_task(recipe.task).streams_prediction or recipe.evaluate.postprocess.tta:
        return False  # test-time augmentation turns whole images: predicted in memory
    try:
        factor = grid_factor(recipe.preprocess, pixel_size=pixel_size or recipe.data.pixel_size, diameter=diameter)
    except DataError:
        return False  # the in-memory path raises the same error with its context
    return abs(factor - 1.0) < 1e-6


class PlaneStore:
    """Planes of a ``(Y, X, P)`` result appended band by band to temporary raw files, then written as a TIFF."""

    def __init__(self, folder: Path, name: str, n_planes: int, width: int, dtype: Any) -> None:
        self.paths = [folder / f".{name}.{k}.part" for k in range(n_planes)]
        self.handles = [p.open("wb") for p in self.paths]
        self.width, self.dtype, self.rows = width, np.dtype(dtype), 0

    def append(self, band: np.ndarray) -> None:
        """Append rows ``(rows, X, P)`` (or ``(rows, X)`` for one plane)."""
        band = band.reshape(band.shape[0], band.shape[1], -1)
        for k, handle in enumerate(self.handles):
            np.ascontiguousarray(band[..., k], dtype=self.dtype).tofile(handle)
        self.rows += band.shape[0]

    def _strips(self, rows_per_strip: int) -> Iterator[bytes]:
        for path in self.paths:
            with path.open("rb") as handle:
                for y in range(0, self.rows, rows_per_strip):
                    count = min(rows_per_strip, self.rows - y) * self.width
                    yield np.fromfile(handle, self.dtype, count=count).tobytes()

    def write_tiff(self, path: Path, pixel_size: float | None, *, planes_axis: bool = True) -> Path:
        """Write an ImageJ TIFF (``CYX``, or ``YX`` without ``planes_axis``) like ``predict_job.write_tiff``."""
        import tifffile

        for handle in self.handles:
            handle.close()
        n = len(self.paths)
        rows_per_strip = max(1, STRIP_BYTES // (self.width * self.dtype.itemsize))
        shape = (n, self.rows, self.width) if planes_axis else (self.rows, self.width)
        meta: dict[str, Any] = {"axes": "CYX" if planes_axis else "YX"}
        kwargs: dict[str, Any] = {}
        if pixel_size:
            kwargs["resolution"] = (1.0 / pixel_size, 1.0 / pixel_size)
            meta["unit"] = "um"
        tifffile.imwrite(path, self._strips(rows_per_strip), shape=shape, dtype=self.dtype, imagej=True,
                         rowsperstrip=rows_per_strip, metadata=meta, **kwargs)
        return path

    def remove(self) -> None:
        for handle, path in zip(self.handles, self.paths, strict=True):
            handle.close()
            path.unlink(missing_ok=True)


def output_bands(source: Any, raw: np.ndarray) -> tuple[Iterator[tuple[int, np.ndarray]], Any, Any]:
    """Network output of one raw ``(Y, X, C)`` image, band by band, with the input and target statistics used."""
    from builder.data.image_stats import image_stats
    from builder.data.normalize import apply_stats
    from builder.data.patches import iter_tiled_bands
    from builder.workflow.inference import TILE_BATCH, _predict_batch, resolve_norm_stats, tiling

    recipe = source.recipe
    cfg = recipe.preprocess.normalize
    in_stats, target_stats = resolve_norm_stats(source.normalization)
    used = in_stats if in_stats is not None else image_stats(raw, cfg)
    plan = tiling(source.model, raw.shape[:2], recipe)

    def prepare(t: np.ndarray) -> np.ndarray:
        return apply_stats(t.astype(np.float32), used, clip=cfg.clip)

    bands = iter_tiled_bands(_predict_batch(source.model), raw, plan.tile, plan.overlap, align=plan.align,
                             batch_size=TILE_BATCH, prepare=prepare, margin=plan.margin)
    return bands, used, target_stats


def stream_predict(source: Any, image: Any, stem: str, out_dir: Path, options: dict[str, bool] | None = None
                   ) -> tuple[dict[str, Any], list[Path], list]:
    """Predict one image into its per-image TIFFs (``Task.prediction_planes``) without holding the output in
    memory; returns ``(summary row, written paths, [])`` like ``batch_predict._finish``. ``options``: the
    opt-in outputs (see ``Task.write_prediction``)."""
    from builder.data.normalize import output_stats
    from builder.tasks import get_task
    from builder.workflow.inference import _denormalise, as_yxc, postprocess_settings

    recipe = source.recipe
    task = get_task(recipe.task)
    raw = as_yxc(image.array)
    px = image.pixel_size or recipe.data.pixel_size
    bands, used, target_stats = output_bands(source, raw)
    params = postprocess_settings(recipe, source.postprocess)
    stores: dict[str, PlaneStore] = {}
    axes: dict[str, bool] = {}
    row: dict[str, Any] = {"file": str(image.path)}
    try:
        for _y0, band in bands:
            result = {"output": band, **task.interpret(band, recipe, params), **(options or {})}
            if task.image_target:
                result["restored_intensity"] = _denormalise(result["restored"],
                                                            output_stats(source.normalization, used))
            planes = task.prediction_planes(result)
            for name, array in planes.items():
                if name not in stores:
                    axes[name] = array.ndim == 3
                    stores[name] = PlaneStore(out_dir, f"{stem}_{name}", array.shape[-1] if array.ndim == 3 else 1,
                                              raw.shape[1], array.dtype)
                stores[name].append(array)
            task.prediction_row(planes, row)
        written = [store.write_tiff(out_dir / f"{stem}_{name}.tif", px, planes_axis=axes[name])
                   for name, store in stores.items()]
    finally:
        for store in stores.values():
            store.remove()
    if written:
        row["outputs"] = [str(p) for p in written]
    return row, written, []

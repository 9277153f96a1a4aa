"""Per-object measurements of predicted instances: what biologists measure next (area, intensity, shape)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import DataError

#: Descriptors that trace outlines or convex hulls (about a third of the measuring time on large images).
EXPENSIVE_PROPS = ("solidity", "perimeter")
_RENAME = {"centroid-0": "centroid_y", "centroid-1": "centroid_x", "bbox-0": "bbox_min_y", "bbox-1": "bbox_min_x",
           "bbox-2": "bbox_max_y", "bbox-3": "bbox_max_x", "axis_major_length": "major_axis_length",
           "axis_minor_length": "minor_axis_length"}


def measure_objects(
    labels: Any,
    image: Any | None = None,
    *,
    channel_names: Sequence[str] | None = None,
    pixel_size: float | None = None,
    shape: bool = True,
) -> list[dict[str, Any]]:
    """One row per object: label, area, centroid, bounding box, intensities per channel and shape descriptors.

    Parameters
    ----------
    labels : (Y, X) or (Y, X, 1) array of int
        Instance labels, 0 = background.
    image : (Y, X) or (Y, X, C) array, optional
        Intensities for ``mean/min/max_intensity_<channel>``.
    channel_names : list of str, optional
        Names for the intensity columns; default ``ch0``, ``ch1``, ...
    pixel_size : float, optional
        Pixel size in µm; adds ``area_um2``, ``perimeter_um``, ``major_axis_length_um``, ``minor_axis_length_um``.
    shape : bool
        Also measure the outline descriptors of :data:`EXPENSIVE_PROPS` (perimeter, solidity).

    Returns
    -------
    list of dict
        Pixel units for lengths and areas (y, x order for coordinates); sorted by label.
    """
    from builder.tasks.label_stats import label_table

    lab = np.asarray(labels)
    if lab.ndim == 3 and lab.shape[-1] == 1:
        lab = lab[..., 0]
    if lab.ndim != 2 or not np.issubdtype(lab.dtype, np.integer):
        raise DataError("measure", f"`labels` must be a (Y, X) integer label image; received {lab.shape} {lab.dtype}.",
                        "Pass instance labels (0 background).")
    intensity = None
    if image is not None:
        intensity = np.asarray(image)  # read as float64 pixel by pixel (objects only) by label_table
        if intensity.ndim == 2:
            intensity = intensity[..., None]
        if intensity.shape[:2] != lab.shape:
            raise DataError("measure", f"image {intensity.shape} and labels {lab.shape} differ in size.",
                            "Measure a label image on the image it was predicted from.")
    n_ch = intensity.shape[-1] if intensity is not None else 0
    names = list(channel_names) if channel_names is not None else [f"ch{i}" for i in range(n_ch)]
    if len(names) != n_ch:
        raise DataError("measure", f"{len(names)} channel names for {n_ch} channels.", "Give one name per channel.")
    table = label_table(lab, intensity)  # whole-image sums: the per-object loop of regionprops is the slow part
    if shape:
        table = _with_outline_props(table, lab)
    rename = dict(_RENAME)
    for stat in ("mean", "min", "max"):
        for i, nm in enumerate(names):
            rename[f"intensity_{stat}-{i}"] = f"{stat}_intensity_{nm}"
    columns = {rename.get(key, key): (np.asarray(values).astype(int) if key in ("label", "area")
                                      or key.startswith("bbox") else np.asarray(values, np.float64)).tolist()
               for key, values in table.items()}
    rows: list[dict[str, Any]] = []
    for r in range(len(columns["label"])):
        row: dict[str, Any] = {key: values[r] for key, values in columns.items()}
        if pixel_size is not None:
            row["area_um2"] = row["area"] * pixel_size**2
            for key in ("perimeter", "major_axis_length", "minor_axis_length"):
                if key in row:
                    row[f"{key}_um"] = row[key] * pixel_size
        rows.append(row)
    return rows


def _with_outline_props(table: dict[str, Any], lab: np.ndarray) -> dict[str, Any]:
    """``table`` with regionprops' :data:`EXPENSIVE_PROPS` inserted after ``eccentricity`` (their usual place)."""
    from skimage.measure import regionprops_table

    outline = regionprops_table(np.where(lab > 0, lab, 0), properties=("label", *EXPENSIVE_PROPS))
    out: dict[str, Any] = {}
    for key, values in table.items():
        out[key] = values
        if key == "eccentricity":
            out.update({p: outline[p] for p in EXPENSIVE_PROPS})
    return out


def write_objects_csv(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write measurement rows (from :func:`measure_objects`) to a CSV file; returns the path."""
    from builder.data.writers import write_rows_csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_rows_csv(path, rows, empty_header="label")

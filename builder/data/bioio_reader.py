"""Zeiss CZI, Nikon ND2 and Leica LIF files through the optional extra ``cellwright[formats]`` (bioio).

Each format has its own bioio plugin; a format is readable when ``bioio`` and its plugin are installed.
The first scene of a file is read as ``T,C,Z,Y,X`` and handed over with its pixel size (µm) and channel names;
single time points and planes are dropped so the result is the usual ``YXC`` (or ``TYXC`` / ``ZYXC``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

#: File ending -> (bioio plugin module, format name).
PLUGINS = {".czi": ("bioio_czi", "Zeiss CZI"), ".nd2": ("bioio_nd2", "Nikon ND2"), ".lif": ("bioio_lif", "Leica LIF")}
#: The optional extra that installs them.
EXTRA = "cellwright[formats]"


@functools.cache
def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def readable_suffixes() -> tuple[str, ...]:
    """The endings read now (bioio and the format's plugin installed)."""
    if not _installed("bioio"):
        return ()
    return tuple(suffix for suffix, (module, _) in PLUGINS.items() if _installed(module))


def extra_status() -> str:
    """One sentence on the extra: which formats it reads here, or how to install it."""
    readable = readable_suffixes()
    if readable:
        names = ", ".join(PLUGINS[s][1] for s in readable)
        return f"The optional extra '{EXTRA}' is installed and reads {names} files."
    return (f"The optional extra '{EXTRA}' (bioio) is not installed; with it Cellwright reads Zeiss CZI, Nikon ND2 "
            f"and Leica LIF files: pip install '{EXTRA}'.")


def read_bioio(path: Path) -> tuple[np.ndarray, str, float | None, list[str]]:
    """Read the first scene of a CZI/ND2/LIF file: array, its axes, pixel size (µm) and channel names."""
    from bioio import BioImage

    from builder.errors import DataError

    module, name = PLUGINS[path.suffix.lower()]
    if path.suffix.lower() not in readable_suffixes():
        raise DataError(str(path), f"is a {name} file, which Cellwright reads only with an optional extra.",
                        extra_status())
    reader = importlib.import_module(module).Reader
    image = BioImage(path, reader=reader)
    array = np.asarray(image.get_image_data("TCZYX"))
    axes = "TCZYX"
    for axis in "TZ":  # drop a single time point / plane
        index = axes.index(axis)
        if array.shape[index] == 1:
            array = np.take(array, 0, axis=index)
            axes = axes.replace(axis, "")
    sizes = image.physical_pixel_sizes
    pixel_size = _positive(sizes.X) or _positive(sizes.Y)
    names = [str(n) for n in (image.channel_names or [])]
    return array, axes, pixel_size, names


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) and number > 0 else None

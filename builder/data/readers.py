"""Read microscope images into ``Y,X,C`` (or ``T,Y,X,C``) arrays, keeping axes, pixel size and channel names.

Supported: TIFF / OME-TIFF / ImageJ TIFF (multi-page, multi-channel, 8/16/32-bit, LZW/zlib/... compressed),
PNG, JPEG, NumPy ``.npy`` and OME-Zarr (v0.4 and v0.5 attributes); Zeiss CZI, Nikon ND2 and Leica LIF with the
optional extra ``cellwright[formats]`` (:mod:`builder.data.bioio_reader`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import DataError

#: File endings read as images (lower case).
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".npy", ".zarr")

_UNIT_TO_UM = {
    "nm": 1e-3, "nanometer": 1e-3, "um": 1.0, "\u00b5m": 1.0, "\u03bcm": 1.0, "micron": 1.0, "micrometer": 1.0,
    "microns": 1.0, "mm": 1e3, "millimeter": 1e3, "cm": 1e4, "centimeter": 1e4, "m": 1e6, "meter": 1e6,
}


@dataclass
class ImageData:
    """An image with its metadata.

    Attributes
    ----------
    array : (Y, X, C) or (T, Y, X, C) ndarray
        Pixel values in the file's dtype.
    axes : str
        ``"YXC"`` or ``"TYXC"``.
    pixel_size : float or None
        Physical size of one pixel in micrometres, when the file says it.
    channel_names : list of str
        One name per channel (from the file, the recipe's ``file_channels`` or ``ch0, ch1, ...``).
    path : Path
        The file read.
    source_axes : str
        Axis order as stored in the file (e.g. ``"CYX"``).
    """

    array: np.ndarray
    axes: str
    pixel_size: float | None = None
    channel_names: list[str] = field(default_factory=list)
    path: Path | None = None
    source_axes: str = ""

    @property
    def n_channels(self) -> int:
        return int(self.array.shape[-1])


def is_image_file(path: Path) -> bool:
    """Return True if ``path`` has an image ending Cellwright reads (OME-Zarr folders included)."""
    name = path.name.lower()
    if name.startswith("."):
        return False
    if name.endswith(".ome.zarr") or name.endswith(".zarr"):
        return path.is_dir()
    if not path.is_file():
        return False
    from builder.data.bioio_reader import readable_suffixes

    return path.suffix.lower() in IMAGE_SUFFIXES or path.suffix.lower() in readable_suffixes()


def read_image(
    path: str | Path, *, channels: list[str] | None = None, file_channels: list[str] | None = None,
    project: str | None = None,
) -> ImageData:
    """Read an image file into ``Y,X,C`` (or ``T,Y,X,C`` for time-lapses).

    Parameters
    ----------
    path : str or Path
        TIFF, OME-TIFF, PNG, JPEG, ``.npy`` file or OME-Zarr folder.
    channels : list of str, optional
        Channels to keep, in this order (names, or indices written as ``"0"``/``"ch0"``).
    file_channels : list of str, optional
        Names of the channels as stored, for files that do not name them.
    project : {'max', 'mean'}, optional
        Project a z-stack (a ``Z`` axis in the file) to one plane instead of refusing it.

    Returns
    -------
    ImageData

    Raises
    ------
    DataError
        If the file is missing, unreadable, truncated, or a channel is not found.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(str(path), "file not found.", "Check the path and the recipe's data.root.")
    try:
        array, axes, pixel_size, names = _read_raw(path)
    except DataError:
        raise
    except Exception as error:  # any decoder failure means the file is broken for the user
        raise DataError(
            str(path),
            f"could not be read ({type(error).__name__}: {str(error)[:200]}); the file may be truncated or corrupt.",
            "Open it in Fiji to check it; replace or remove it, or set data.skip_unreadable: true to skip it.",
        ) from error
    source_axes = axes
    array, axes = _to_engine_axes(array, axes, path, project=project)
    n_channels = array.shape[-1]
    if file_channels:
        if len(file_channels) != n_channels:
            raise DataError(
                str(path),
                f"data.file_channels names {len(file_channels)} channels but the file has {n_channels}.",
                "Give one name per channel stored in the file in data.file_channels.",
            )
        names = list(file_channels)
    if not names or len(names) != n_channels:
        names = [f"ch{i}" for i in range(n_channels)]
    image = ImageData(array, axes, pixel_size, list(names), path, source_axes=source_axes)
    if channels:
        image = select_channels(image, channels)
    return image


def select_channels(image: ImageData, channels: list[str]) -> ImageData:
    """Keep and reorder channels by name (or index: ``"1"``, ``"ch1"``)."""
    index: list[int] = []
    for wanted in channels:
        key = str(wanted)
        if key in image.channel_names:
            index.append(image.channel_names.index(key))
            continue
        match = re.fullmatch(r"(?:ch|c)?(\d+)", key.lower())
        if match and int(match.group(1)) < image.n_channels:
            index.append(int(match.group(1)))
            continue
        raise DataError(
            str(image.path),
            f"channel {key!r} not found; the file has channels {image.channel_names}.",
            "Use one of these names in data.channels, or name the stored channels with data.file_channels.",
        )
    array = image.array[..., index]
    names = [image.channel_names[i] for i in index]
    return ImageData(array, image.axes, image.pixel_size, names, image.path, image.source_axes)


# ----------------------------------------------------------------------------------------------- raw readers


def _read_raw(path: Path) -> tuple[np.ndarray, str, float | None, list[str]]:
    name = path.name.lower()
    if path.is_dir():
        if name.endswith(".zarr") or (path / "zarr.json").exists() or (path / ".zattrs").exists():
            return _read_zarr(path)
        raise DataError(str(path), "is a folder, not an image.", "Point to an image file or an OME-Zarr folder.")
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        return _read_tiff(path)
    if suffix in (".png", ".jpg", ".jpeg"):
        return _read_pil(path)
    if suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        return array, _guess_axes(array.shape), None, []
    from builder.data.bioio_reader import PLUGINS, read_bioio

    if suffix in PLUGINS:
        return read_bioio(path)
    raise DataError(
        str(path), f"has an ending ({suffix or 'none'}) Cellwright does not read.",
        f"Convert it to TIFF; readable endings are {', '.join(IMAGE_SUFFIXES)}.",
    )


def _read_tiff(path: Path) -> tuple[np.ndarray, str, float | None, list[str]]:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        array = series.asarray()
        axes = series.axes.upper()
        pixel_size: float | None = None
        names: list[str] = []
        if tif.ome_metadata:
            pixel_size, names = _ome_xml_info(tif.ome_metadata)
        if pixel_size is None:
            pixel_size = _tiff_resolution(tif)
        if not names and tif.imagej_metadata:
            labels = tif.imagej_metadata.get("Labels")
            n_c = array.shape[axes.index("C")] if "C" in axes else 0
            if isinstance(labels, list) and n_c and len(labels) == n_c:
                names = [str(label) for label in labels]
        if not names and "S" in axes and array.shape[axes.index("S")] == 3:
            names = ["red", "green", "blue"]  # an RGB TIFF names its samples like a PNG
    return array, axes, pixel_size, names


def read_pixel_size(path: str | Path) -> float | None:
    """The pixel size (µm) a TIFF / OME-TIFF file records (OME metadata, else resolution tags), without reading
    its pixels; None for other formats, unreadable files or files that record none."""
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff") or not path.is_file():
        return None
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            pixel_size = _ome_xml_info(tif.ome_metadata)[0] if tif.ome_metadata else None
            return pixel_size if pixel_size is not None else _tiff_resolution(tif)
    except (OSError, ValueError, tifffile.TiffFileError):
        return None


def _ome_xml_info(xml: str) -> tuple[float | None, list[str]]:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None, []
    pixels = next((el for el in root.iter() if el.tag.endswith("}Pixels") or el.tag == "Pixels"), None)
    if pixels is None:
        return None, []
    size = pixels.get("PhysicalSizeX")
    unit = pixels.get("PhysicalSizeXUnit", "µm")
    pixel_size = _to_um(float(size), unit) if size else None
    names = [ch.get("Name", "") for ch in pixels if ch.tag.endswith("Channel")]
    if any(not n for n in names):
        names = []
    return pixel_size, names


def _tiff_resolution(tif: Any) -> float | None:
    page = tif.pages[0]
    tag = page.tags.get("XResolution")
    if tag is None:
        return None
    num, den = tag.value if isinstance(tag.value, tuple) else (tag.value, 1)
    if not num or not den:
        return None
    per_unit = num / den  # pixels per unit
    unit = None
    if tif.imagej_metadata:
        unit = tif.imagej_metadata.get("unit")
    if unit is None:
        res_unit = page.tags.get("ResolutionUnit")
        code = int(res_unit.value) if res_unit is not None else 2
        unit = {3: "cm"}.get(code)  # 2 = inch: a screen dpi, not a physical pixel size
    if unit is None:
        return None
    unit = str(unit).replace("\\u00B5", "µ")
    if unit.lower() in ("pixel", "pixels", "inch"):
        return None
    try:
        return _to_um(1.0 / per_unit, unit)
    except ValueError:
        return None


def _to_um(value: float, unit: str) -> float:
    factor = _UNIT_TO_UM.get(unit.strip().lower(), _UNIT_TO_UM.get(unit.strip()))
    if factor is None:
        raise ValueError(f"unknown unit {unit!r}")
    return float(value) * factor


def _read_pil(path: Path) -> tuple[np.ndarray, str, float | None, list[str]]:
    from PIL import Image

    with Image.open(path) as opened:
        opened.load()
        img: Image.Image = opened
        if img.mode in ("P", "PA"):
            img = img.convert("RGBA" if "A" in img.mode else "RGB")
        if img.mode in ("RGBA", "LA"):
            array = np.asarray(img)[..., :-1]  # drop alpha
        elif img.mode == "CMYK":
            array = np.asarray(img.convert("RGB"))
        else:
            array = np.asarray(img)
    if array.ndim == 2:
        return array, "YX", None, []
    names = ["red", "green", "blue"] if array.shape[-1] == 3 else []
    return array, "YXC", None, names


def _read_zarr(path: Path) -> tuple[np.ndarray, str, float | None, list[str]]:
    import zarr

    group = zarr.open_group(str(path), mode="r")
    attrs: dict[str, Any] = dict(group.attrs)
    ome: dict[str, Any] = attrs.get("ome", attrs)  # v0.5 nests under "ome"
    multiscales = ome.get("multiscales")
    if not multiscales:
        raise DataError(
            str(path), "is a Zarr folder without OME 'multiscales' metadata.",
            "Write it as OME-Zarr (e.g. with ome-zarr-py or bioformats2raw), or convert it to TIFF.",
        )
    ms = multiscales[0]
    dataset = ms["datasets"][0]
    level = group[dataset["path"]]
    if not isinstance(level, zarr.Array):
        raise DataError(str(path), f"Expected an array at the first resolution level '{dataset['path']}'. Received: "
                        "a group.", "Write it as OME-Zarr (e.g. with ome-zarr-py or bioformats2raw).")
    axes_meta = ms.get("axes") or [{"name": a} for a in "tczyx"[-len(level.shape):]]
    axes = "".join((a["name"] if isinstance(a, dict) else a)[0].upper() for a in axes_meta)
    array = np.asarray(level[...])
    pixel_size = None
    for transform in dataset.get("coordinateTransformations", []):
        if transform.get("type") == "scale" and "X" in axes:
            scale = transform["scale"][axes.index("X")]
            unit = axes_meta[axes.index("X")].get("unit", "micrometer") if isinstance(axes_meta[0], dict) else "µm"
            try:
                pixel_size = _to_um(float(scale), unit or "micrometer")
            except ValueError:
                pixel_size = None
    omero = ome.get("omero", {})
    names = [ch.get("label", "") for ch in omero.get("channels", [])]
    if any(not n for n in names):
        names = []
    return array, axes, pixel_size, names


# ----------------------------------------------------------------------------------------------- axes


def _guess_axes(shape: tuple[int, ...]) -> str:
    if len(shape) == 2:
        return "YX"
    if len(shape) == 3:
        if shape[-1] <= 4:
            return "YXC"
        if shape[0] <= 4:
            return "CYX"
        return "TYX"
    if len(shape) == 4:
        return "TYXC" if shape[-1] <= 4 else "TCYX"
    return "Q" * (len(shape) - 2) + "YX"


def _to_engine_axes(array: np.ndarray, axes: str, path: Path, *, project: str | None = None
                    ) -> tuple[np.ndarray, str]:
    """Reorder ``array`` (with ``axes`` as stored) to ``YXC`` or ``TYXC``."""
    axes = axes.upper()
    if len(axes) != array.ndim:
        axes = _guess_axes(array.shape)
    # samples (RGB) are channels; unknown axes (I, Q) are channels when small, else time
    axes = axes.replace("S", "C") if "C" not in axes else axes.replace("S", "Q")
    out: list[str] = []
    for a, size in zip(axes, array.shape, strict=True):
        if a in "IQ":
            if "C" not in axes and "C" not in out and size <= 16:
                a = "C"
            elif "T" not in axes and "T" not in out:
                a = "T"
        out.append(a)
    axes = "".join(out)
    # squeeze size-1 axes that are not Y, X, C, T; merge leftovers
    for a in list(axes):
        if a not in "YXCT" and array.shape[axes.index(a)] == 1:
            array = array.squeeze(axes.index(a))
            axes = axes.replace(a, "", 1)
    if "Z" in axes and project in ("max", "mean"):
        reduce = np.max if project == "max" else np.mean
        array = reduce(array, axis=axes.index("Z")).astype(array.dtype, copy=False)
        axes = axes.replace("Z", "")
    if "Z" in axes:
        raise DataError(
            str(path), f"is a 3D stack with {array.shape[axes.index('Z')]} z-slices; Cellwright works on 2D images.",
            "Make a maximum projection or pick one slice in Fiji (Image > Stacks > Z Project) and save that "
            "(cellwright predict can project it: --project max).",
        )
    extra = [a for a in axes if a not in "YXCT"]
    if extra or axes.count("C") > 1 or axes.count("T") > 1:
        raise DataError(
            str(path), f"has axes {axes!r} (shape {array.shape}) that Cellwright cannot map to Y,X,C.",
            "Save the image as a 2D (optionally multi-channel or time-lapse) TIFF.",
        )
    if "C" not in axes:
        array = array[..., None]
        axes += "C"
    target = "TYXC" if "T" in axes else "YXC"
    if "T" in axes and array.shape[axes.index("T")] == 1:
        array = array.squeeze(axes.index("T"))
        axes = axes.replace("T", "")
        target = "YXC"
    array = np.moveaxis(array, [axes.index(a) for a in target], list(range(len(target))))
    return np.ascontiguousarray(array), target

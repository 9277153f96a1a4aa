"""Label images on disk: where a mask goes in the dataset's own layout, and atomic writing / reading.

Masks are ordinary files (TIFF, or PNG when the dataset already uses PNG masks) that every other tool reads;
each write goes to a temporary file in the same folder and replaces the old file in one step, so a crash
leaves either the previous or the new mask, never half a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from builder.errors import DataError
from builder.io_utils import atomic_write_with

LABEL_SUFFIXES = (".tif", ".tiff", ".png")


def image_stem(image: Path) -> str:
    """The file name without its image ending (``a.ome.tif`` -> ``a``), case kept."""
    name = image.name
    for ending in (".ome.tiff", ".ome.tif", ".ome.zarr"):
        if name.lower().endswith(ending):
            return name[: -len(ending)]
    return image.stem if image.suffix else name


def label_path_for(image: Path, existing: Path | None = None, masks: str = "masks") -> Path:
    """Where the mask of ``image`` is written: its existing mask, else ``masks/<name>.tif`` next to ``images/``.

    In the ``folders`` layout (``root/images/a.png``, ``root/masks/a.tif``) the mask folder is a sibling of the
    image folder; the engine pairs the two by name.
    """
    if existing is not None:
        return Path(existing)
    return Path(image).parent.parent / masks / f"{image_stem(Path(image))}.tif"


def write_labels(path: Path, labels: np.ndarray, pixel_size: float | None = None) -> Path:
    """Write a label image (Y, X) atomically: uint16 TIFF (uint32 above 65535 objects), or 16-bit PNG.

    A TIFF records ``pixel_size`` (µm, the image's) as resolution tags that Fiji and the engine read; without
    it, rewriting a TIFF keeps the pixel size the old file recorded (resolution tags or OME metadata), so
    correcting a mask never loses its scale.

    Raises
    ------
    DataError
        If the ending is not .tif/.tiff/.png, or a PNG would need more than 65535 ids.
    """
    path = Path(path)
    labels = np.asarray(labels)
    suffix = path.suffix.lower()
    if suffix not in LABEL_SUFFIXES:
        raise DataError(what="Cannot write labels in this format.", file=str(path),
                        expected="a file ending in " + ", ".join(LABEL_SUFFIXES), received=f"'{path.suffix}'",
                        fix="Keep the masks as TIFF files (e.g. masks/<image name>.tif).")
    top = int(labels.max(initial=0))
    if suffix == ".png":
        if top > 65535:
            raise DataError(what="Too many objects for a PNG mask.", file=str(path), expected="ids up to 65535",
                            received=f"largest id {top}", fix="Save the masks as TIFF files instead.")
        from PIL import Image

        data = labels.astype(np.uint16)
        return atomic_write_with(path, lambda tmp: Image.fromarray(data).save(tmp, format="PNG"), suffix=".png")
    import tifffile

    from builder.data.readers import read_pixel_size

    size = pixel_size if pixel_size else read_pixel_size(path)
    resolution = (1e4 / size, 1e4 / size) if size else None  # pixels per centimetre
    data = labels.astype(np.uint16 if top < 65536 else np.uint32)
    return atomic_write_with(path, lambda tmp: tifffile.imwrite(
        tmp, data, photometric="minisblack", compression="zlib", resolution=resolution,
        resolutionunit="CENTIMETER" if size else None), suffix=".tif")


def read_labels(path: Path) -> np.ndarray:
    """A label image as (Y, X) int32 (the first plane of a stack, the first channel of a multi-channel file).

    Raises
    ------
    DataError
        If the file cannot be read as a label image.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".png":
            from PIL import Image

            with Image.open(path) as image:
                array = np.asarray(image)
        else:
            import tifffile

            array = tifffile.imread(path)
    except (OSError, ValueError) as error:
        raise DataError(what="Cannot read the mask.", file=str(path), expected="a TIFF or PNG label image",
                        received=str(error), fix="Check the file, or delete it to start this mask anew.") from error
    while array.ndim > 2:
        array = array[..., 0] if array.shape[-1] <= 4 else array[0]
    if not np.issubdtype(array.dtype, np.integer):
        raise DataError(what="The mask is not a label image.", file=str(path), expected="integer ids",
                        received=f"dtype {array.dtype}", fix="Save the mask with whole-number object ids.")
    return array.astype(np.int32)

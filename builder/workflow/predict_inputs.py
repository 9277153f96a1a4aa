"""Inputs of ``cellwright predict``, checked before the model is loaded and before each image is run.

:func:`collect_inputs` lists the images to predict and the entries it must leave out (microscope formats
Cellwright cannot read yet, links to missing files) without opening the model. :func:`fit_channels` compares an
image's channels with the model's input and either adapts the image the way the user asked (``--channel``,
``--project``) or says exactly what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import DataError

#: Projections ``--project`` offers for z-stacks.
PROJECTIONS = ("max", "mean")


@dataclass
class Skipped:
    """An input that was not predicted, with the reason and the fix."""

    file: str
    what: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "what": self.what, "fix": self.fix}


def _skipped_entry(path: Path) -> Skipped | None:
    from builder.data.skipped import formats_fix, is_dangling_link, microscope_format

    if is_dangling_link(path):
        return Skipped(str(path), "is a link to a file that does not exist.",
                       "Restore the file it points to (is a network drive unmounted?), or delete the link.")
    name = microscope_format(path)
    if name:
        return Skipped(str(path), f"is a {name} file, which Cellwright cannot read yet.", formats_fix(path))
    return None


def collect_inputs(inputs: Iterable[str | Path]) -> tuple[list[Path], list[Skipped]]:
    """Image files to predict from files and folders (not recursive), and the entries left out.

    Returns
    -------
    images : list of Path
        Resolved, without duplicates, folders' files sorted.
    skipped : list of Skipped
        Microscope-format files and dangling links (given directly or found in a folder).

    Raises
    ------
    DataError
        An input does not exist or is not an image, or nothing at all can be predicted.
    """
    from builder.data.layouts import list_images
    from builder.data.readers import IMAGE_SUFFIXES, is_image_file

    found: list[Path] = []
    skipped: list[Skipped] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir() and not path.name.lower().endswith(".zarr"):
            found += list_images(path)
            skipped += [s for p in sorted(path.iterdir()) if (s := _skipped_entry(p)) is not None]
        elif path.exists() and is_image_file(path):
            found.append(path)
        elif (entry := _skipped_entry(path)) is not None:
            skipped.append(entry)
        else:
            raise DataError(str(path), "Not found." if not path.exists() else "Not an image Cellwright reads.",
                            f"Give image files ({', '.join(IMAGE_SUFFIXES)}) or folders of images.")
    images = list(dict.fromkeys(p.resolve() for p in found))
    if not images:
        where = ", ".join(str(p) for p in inputs) if isinstance(inputs, Sequence) else "the inputs"
        reasons = "".join(f"\n  {Path(s.file).name}: {s.what}" for s in skipped[:10])
        raise DataError(where, "There are no image files here that Cellwright can read." + reasons,
                        skipped[0].fix if skipped else "Point at TIFF/PNG/JPEG/.npy files or OME-Zarr folders.")
    return images, skipped


def model_channels(model: Any) -> int | None:
    """Number of channels the model's (first) input takes, or None when it is not fixed."""
    shape = tuple(model.inputs[0].shape)
    return int(shape[-1]) if shape and shape[-1] is not None else None


def _is_unlabelled_stack(image: Any) -> bool:
    """The channels came from an unnamed stack axis (plain multi-page TIFF, ``.npy``), not from real channels."""
    axes = (image.source_axes or "").upper()
    return "C" not in axes and "S" not in axes and any(a in axes for a in "IQ")


def fit_channels(image: Any, expected: int | None, *, project: str | None = None) -> Any:
    """Return ``image`` with the channels the model takes, or raise a :class:`DataError` saying what to do.

    Parameters
    ----------
    image : ImageData
        As read by :func:`builder.data.readers.read_image` (``Y,X,C``).
    expected : int or None
        Channels of the model's input (None: anything goes).
    project : {'max', 'mean'}, optional
        Project an unlabelled stack (read as channels) to one plane when the model takes one channel.

    Raises
    ------
    DataError
        The channel counts differ and no option given resolves it.
    """
    from builder.data.readers import ImageData

    n = image.n_channels
    if project and expected == 1 and n > 1 and _is_unlabelled_stack(image):
        reduce = np.max if project == "max" else np.mean
        array = reduce(image.array, axis=-1, keepdims=True).astype(image.array.dtype, copy=False)
        return ImageData(array, image.axes, image.pixel_size, [f"{project}-projection"], image.path,
                         image.source_axes)
    if expected is None or n == expected:
        return image
    where, wants = str(image.path), f"the model takes {expected} channel{'s' if expected != 1 else ''}"
    if expected == 1 and _is_unlabelled_stack(image):
        raise DataError(where, f"holds a stack of {n} planes (read as {n} channels) but {wants}.",
                        "If the planes are z-slices, add --project max (maximum projection) or --project mean; "
                        f"to use one plane, add --channel with its number (0 to {n - 1}), e.g. --channel {n // 2}.")
    if expected == 1 and n in (3, 4) and image.channel_names[:3] == ["red", "green", "blue"] or (
            expected == 1 and "S" in (image.source_axes or "").upper()):
        raise DataError(where, f"is an RGB colour image ({n} channels) but {wants}.",
                        "Pick the stained channel with --channel (e.g. --channel green), or convert the image to "
                        "greyscale in Fiji (Image > Type > 8-bit) and predict that.")
    names = ", ".join(image.channel_names)
    raise DataError(where, f"has {n} channel{'s' if n != 1 else ''} ({names}) but {wants}.",
                    f"Choose {expected} channel{'s' if expected != 1 else ''} in the model's order with --channel "
                    f"(once per channel, by name or number, e.g. --channel {image.channel_names[0]}), or use images "
                    "with the channels the model was trained on.")

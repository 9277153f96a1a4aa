"""Time-lapse training data for tracking: CTC frame folders, or one multi-frame file per sequence.

A sequence of the ``ctc`` layout is either a folder of frames (``01/t000.tif`` ...) or one file with a time axis
(multi-page TIFF, OME-TIFF or OME-Zarr, e.g. ``01.ome.tif``). Its ground truth is a CTC folder ``01_GT/``
(``TRA/man_track.txt``, ``TRA/man_trackTTT.tif``, ``SEG/man_segTTT.tif``), or, for a multi-frame file, a label
time-lapse of the same shape named like it with ``_labels`` (``01_labels.ome.tif``): the label of a cell is its
track, present from its first to its last frame (no divisions: a label time-lapse has no parents).

:class:`SequenceTruth` gives the tracking task one view of either: the lineage, the markers and the SEG masks of
a frame, and the raw frame.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import DataError

#: Endings of a multi-frame sequence file (lower case).
SEQUENCE_ENDINGS = (".ome.tiff", ".ome.tif", ".ome.zarr", ".tiff", ".tif", ".zarr")
#: What a label time-lapse adds to its sequence's name.
LABELS_SUFFIX = "_labels"


def sequence_name(path: Path) -> str | None:
    """Name of a multi-frame sequence file (``01.ome.tif`` -> ``01``), or None for other files."""
    lower = path.name.lower()
    for ending in SEQUENCE_ENDINGS:
        if lower.endswith(ending) and len(lower) > len(ending):
            return path.name[: -len(ending)]
    return None


def labels_file(root: Path, name: str) -> Path | None:
    """The label time-lapse of sequence ``name`` (``name_labels`` with any sequence ending), or None."""
    for ending in SEQUENCE_ENDINGS:
        candidate = root / f"{name}{LABELS_SUFFIX}{ending}"
        if candidate.exists():
            return candidate
    return None


def is_labels_file(path: Path) -> bool:
    """True for a label time-lapse (``01_labels.ome.tif``)."""
    name = sequence_name(path)
    return name is not None and name.endswith(LABELS_SUFFIX)


@functools.lru_cache(maxsize=2)
def _read_cached(path: str, stamp: float, channels: tuple[str, ...] | None,
                 file_channels: tuple[str, ...] | None) -> Any:
    from builder.data.readers import read_image

    return read_image(path, channels=list(channels) if channels else None,
                      file_channels=list(file_channels) if file_channels else None)


def read_sequence_file(path: str | Path, channels: list[str] | None = None,
                       file_channels: list[str] | None = None) -> Any:
    """The :class:`~builder.data.readers.ImageData` of a multi-frame file (the last two reads are kept: frames are
    read one by one for training, and a sequence and its label time-lapse are read together)."""
    path = Path(path)
    return _read_cached(str(path), path.stat().st_mtime, tuple(channels) if channels else None,
                        tuple(file_channels) if file_channels else None)


def frame_count(path: Path) -> int:
    """Number of frames of a multi-frame file (1 for a single image)."""
    image = read_sequence_file(path)
    return int(image.array.shape[0]) if image.axes == "TYXC" else 1


def take_frame(image: Any, frame: int | None, where: str) -> Any:
    """Frame ``frame`` of a ``TYXC`` :class:`~builder.data.readers.ImageData` as ``YXC`` (others unchanged)."""
    from builder.data.readers import ImageData

    if frame is None or image.axes != "TYXC":
        return image
    if not 0 <= frame < image.array.shape[0]:
        raise DataError(where, f"has {image.array.shape[0]} frames; frame {frame} was asked for.",
                        "Give the image and its labels the same number of frames.")
    return ImageData(image.array[frame].copy(), "YXC", image.pixel_size, list(image.channel_names), image.path,
                     image.source_axes)


def frame_number(sample: Any) -> int:
    """Frame of a sample in its sequence: its index in a multi-frame file, else the digits of ``tTTT.tif``."""
    if getattr(sample, "frame", None) is not None:
        return int(sample.frame)
    digits = "".join(ch for ch in Path(sample.image_path).stem if ch.isdigit())
    return int(digits) if digits else 0


@dataclass
class SequenceTruth:
    """Ground truth of one sequence: lineage rows (``label begin end parent``) and per-frame readers."""

    tracks: list[Any]
    gt: Path | None = None
    labels: Path | None = None
    frames: Path | None = None  # a multi-frame file, or the folder of tTTT.tif frames

    def markers(self, number: int) -> np.ndarray | None:
        """TRA markers of frame ``number`` (the label time-lapse's frame), or None."""
        if self.labels is not None:
            return _labels_frame(self.labels, number)
        return self._ctc_frame("TRA", "man_track", number)

    def seg(self, number: int) -> np.ndarray | None:
        """SEG mask of frame ``number`` (only annotated frames; every frame of a label time-lapse), or None."""
        if self.labels is not None:
            return _labels_frame(self.labels, number)
        return self._ctc_frame("SEG", "man_seg", number)

    def raw(self, number: int) -> np.ndarray | None:
        """Frame ``number`` as float32 (Y, X), channels averaged, or None."""
        if self.frames is None:
            return None
        if self.frames.is_dir() and not sequence_name(self.frames):
            path = _numbered_file(self.frames, "t", number)
            if path is None:
                return None
            from builder.data.readers import read_image

            array = read_image(path).array
        else:
            image = read_sequence_file(self.frames)
            if image.axes != "TYXC" or number >= image.array.shape[0]:
                return None
            array = image.array[number]
        return np.asarray(array, np.float32).mean(axis=-1)

    def _ctc_frame(self, sub: str, prefix: str, number: int) -> np.ndarray | None:
        if self.gt is None:
            return None
        path = _numbered_file(self.gt / sub, prefix, number)
        if path is None:
            return None
        from builder.data.readers import read_image

        return read_image(path).array[..., 0].astype(np.int32)


def _numbered_file(folder: Path, prefix: str, number: int) -> Path | None:
    for width in (3, 4):
        for ending in (".tif", ".tiff"):
            path = folder / f"{prefix}{number:0{width}d}{ending}"
            if path.is_file():
                return path
    return None


def _labels_frame(path: Path, number: int) -> np.ndarray | None:
    image = read_sequence_file(path)
    if image.axes != "TYXC" or number >= image.array.shape[0]:
        return None
    return image.array[number, ..., 0].astype(np.int32)


def tracks_from_labels(labels: np.ndarray) -> list[Any]:
    """Lineage rows of a label time-lapse ``(T, Y, X)``: each label from its first to its last frame, no parent."""
    from builder.tracking.lineage import TrackRow

    seen: dict[int, list[int]] = {}
    for t, frame in enumerate(np.asarray(labels)):
        for label in np.unique(frame):
            if label > 0:
                seen.setdefault(int(label), []).append(t)
    return [TrackRow(label, min(ts), max(ts), 0) for label, ts in sorted(seen.items())]


def sequence_truth(sample: Any) -> SequenceTruth:
    """The ground truth of the sequence ``sample`` (one frame of it) belongs to."""
    from builder.data.ctc import read_man_track
    from builder.tracking.lineage import TrackRow

    image_path = Path(sample.image_path)
    multi = getattr(sample, "frame", None) is not None
    root = image_path.parent if multi else image_path.parent.parent
    frames = image_path if multi else image_path.parent
    mask = Path(sample.mask_path) if sample.mask_path else None
    if mask is not None and multi and is_labels_file(mask):
        image = read_sequence_file(mask)
        stack = image.array[..., 0] if image.axes == "TYXC" else image.array[None, ..., 0]
        return SequenceTruth(tracks_from_labels(stack), labels=mask, frames=frames)
    gt = root / f"{sample.group}_GT" if sample.group else (mask.parent.parent if mask else None)
    if gt is None or not (gt / "TRA" / "man_track.txt").is_file():
        raise DataError(str(gt or root), "no tracking ground truth (TRA/man_track.txt) for this sequence.",
                        "Add the CTC ground truth folder (NN_GT/TRA/man_track.txt and man_trackTTT.tif), or a "
                        "label time-lapse NN_labels.tif of the same shape as the sequence.")
    rows = [TrackRow(t.label, t.begin, t.end, t.parent) for t in read_man_track(gt / "TRA" / "man_track.txt")]
    return SequenceTruth(rows, gt=gt, frames=frames)


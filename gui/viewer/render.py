"""Pixel work of the viewer in NumPy: image stacks (T, Z, Y, X, C), contrast tables, label layers.

Nothing here imports Qt. A redraw asks :meth:`ImageStack.render` for one rectangle of the image at an
integer sub-sampling step, so the cost follows the screen size, not the image size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Colours of the first channels when several are shown together (green, magenta, cyan, yellow, ...).
CHANNEL_COLOURS = ((0, 255, 0), (255, 0, 255), (0, 255, 255), (255, 255, 0), (255, 80, 80), (80, 80, 255))
#: Colours of a photo's channels (the reader names them red, green, blue): shown as taken, not as fluorescence.
RGB_COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}
#: Percentiles of the automatic contrast.
AUTO_PERCENTILES = (1.0, 99.8)


def as_stack(array: np.ndarray, axes: str | None = None) -> np.ndarray:
    """View ``array`` as (T, Z, Y, X, C). ``axes`` names the given axes (e.g. "YX", "YXC", "TYXC", "TZYXC");
    without it: 2-D is YX, 3-D is YXC, 4-D is TYXC, 5-D is TZYXC."""
    array = np.asarray(array)
    if axes is None:
        axes = {2: "YX", 3: "YXC", 4: "TYXC", 5: "TZYXC"}.get(array.ndim)
        if axes is None:
            raise ValueError(f"Expected an image with 2 to 5 axes. Received shape {array.shape}.")
    axes = axes.upper()
    if len(axes) != array.ndim or not set(axes) <= set("TZYXC") or "Y" not in axes or "X" not in axes:
        raise ValueError(f"The axes {axes!r} do not fit an array of shape {array.shape}.")
    for name in "TZYXC":
        if name not in axes:
            array = array[..., None]
            axes += name
    return np.transpose(array, [axes.index(name) for name in "TZYXC"])


@dataclass
class Contrast:
    """Black and white level of one channel, in the image's own units."""

    low: float
    high: float

    def lut(self, dtype: np.dtype) -> np.ndarray | None:
        """uint8 lookup table for 8/16-bit integers (``None`` for other types: computed directly)."""
        if np.dtype(dtype) not in (np.dtype(np.uint8), np.dtype(np.uint16)):
            return None
        values = np.arange(np.iinfo(dtype).max + 1, dtype=np.float32)
        return self.apply(values)

    def apply(self, values: np.ndarray) -> np.ndarray:
        span = max(float(self.high - self.low), 1e-12)
        return (np.clip((values.astype(np.float32) - self.low) / span, 0.0, 1.0) * 255.0).astype(np.uint8)


class ImageStack:
    """An image with time, z and channels; keeps one contrast (and one lookup table) per channel."""

    def __init__(self, array: np.ndarray, axes: str | None = None, channel_names: list[str] | None = None) -> None:
        self.data = as_stack(array, axes)
        self.t = self.z = 0
        count = self.data.shape[-1]
        self.channel_names = list(channel_names or [f"channel {i + 1}" for i in range(count)])[:count]
        self.channel: int | None = None if count > 1 else 0  # None: all channels as colours
        self.contrasts = [self.auto_contrast(c) for c in range(count)]
        self._luts: dict[int, np.ndarray | None] = {}
        names = [str(name).lower() for name in self.channel_names] + [""] * (count - len(self.channel_names))
        #: A colour photo (channels named red, green, blue): true colours, full 8-bit range.
        self.photo = count >= 3 and names[:3] == ["red", "green", "blue"]
        self.colours = [RGB_COLOURS.get(n, (0, 0, 0)) if self.photo else CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)]
                        for i, n in enumerate(names)]
        if self.photo and self.data.dtype == np.uint8:
            self.contrasts = [Contrast(0.0, 255.0) for _ in range(count)]

    # ----------------------------------------------------------------- shape
    @property
    def shape_tzyxc(self) -> tuple[int, int, int, int, int]:
        return tuple(self.data.shape)  # type: ignore[return-value]

    @property
    def height(self) -> int:
        return int(self.data.shape[2])

    @property
    def width(self) -> int:
        return int(self.data.shape[3])

    def plane(self) -> np.ndarray:
        """The current (Y, X, C) plane."""
        return self.data[self.t, self.z]

    # ----------------------------------------------------------------- contrast
    def auto_contrast(self, channel: int) -> Contrast:
        """Percentile contrast of ``channel`` in the current plane (sampled: fast on big images)."""
        plane = self.data[self.t, self.z, :, :, channel]
        step = max(1, int(np.sqrt(plane.size / 250_000)))
        sample = plane[::step, ::step].astype(np.float32)
        low, high = np.percentile(sample, AUTO_PERCENTILES)
        if high <= low:
            high = low + 1.0
        return Contrast(float(low), float(high))

    def set_contrast(self, channel: int, low: float, high: float) -> None:
        self.contrasts[channel] = Contrast(float(low), float(high))
        self._luts.pop(channel, None)

    def _lut(self, channel: int) -> np.ndarray | None:
        if channel not in self._luts:
            self._luts[channel] = self.contrasts[channel].lut(self.data.dtype)
        return self._luts[channel]

    def _to_u8(self, values: np.ndarray, channel: int) -> np.ndarray:
        lut = self._lut(channel)
        return lut[values] if lut is not None else self.contrasts[channel].apply(values)

    # ----------------------------------------------------------------- drawing
    def render(self, y0: int, y1: int, x0: int, x1: int, step: int = 1) -> np.ndarray:
        """RGB uint8 of rows ``y0:y1`` and columns ``x0:x1`` of the current plane, every ``step``-th pixel."""
        region = self.data[self.t, self.z, y0:y1:step, x0:x1:step, :]
        if self.channel is not None:
            grey = self._to_u8(region[..., self.channel], self.channel)
            return np.repeat(grey[..., None], 3, axis=-1)
        out = np.zeros((*region.shape[:2], 3), np.uint16)
        for index in range(region.shape[-1]):
            colour = np.asarray(self.colours[index], np.uint16)
            out += (self._to_u8(region[..., index], index)[..., None].astype(np.uint16) * colour) // 255
        return np.minimum(out, 255).astype(np.uint8)


def outlines(labels: np.ndarray) -> np.ndarray:
    """True on the pixels where the label differs from a neighbour (object borders)."""
    edge = np.zeros(labels.shape, bool)
    edge[:-1, :] |= labels[:-1, :] != labels[1:, :]
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    return edge & (labels > 0)


def label_colours(count: int, seed: int = 7) -> np.ndarray:
    """(count + 1, 3) uint8 colours; label 0 is black (never drawn)."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(60, 256, size=(count + 1, 3)).astype(np.uint8)
    colours[0] = 0
    return colours


@dataclass
class LabelLayer:
    """Object labels (Y, X; 0 = background) drawn over the image: filled or outlined, with an opacity."""

    name: str
    labels: np.ndarray
    opacity: float = 0.45
    outline: bool = False
    visible: bool = True
    editable: bool = False
    _colours: np.ndarray = field(init=False, repr=False)
    _areas: np.ndarray = field(init=False, repr=False)
    _argb: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels)
        while labels.ndim > 2:
            labels = labels[..., 0] if labels.shape[-1] <= 4 else labels[0]
        self.labels = labels.astype(np.int32, copy=False)
        self.changed()

    def changed(self) -> None:
        """Call after editing ``labels`` in place (annotation tools): colours and areas are recomputed."""
        top = int(self.labels.max()) if self.labels.size else 0
        self._colours = label_colours(max(top, 1))
        colours = self._colours.astype(np.uint32)
        self._argb = (np.uint32(0xFF000000) | (colours[:, 0] << 16) | (colours[:, 1] << 8) | colours[:, 2])
        self._argb[0] = 0
        self._areas = np.bincount(self.labels.ravel().clip(min=0), minlength=top + 1)

    def argb(self, y0: int, y1: int, x0: int, x1: int, step: int = 1) -> np.ndarray:
        """The layer's region as opaque ARGB32 colours (0 = transparent) for the painter to blend with
        :attr:`opacity` (Qt's blending is much faster than blending in NumPy)."""
        region = self.labels[y0:y1:step, x0:x1:step]
        table = self._argb
        if region.size and int(region.max()) >= len(table):
            self.changed()
            table = self._argb
        out = table.take(region)
        if self.outline:
            out = np.where(outlines(region), out, np.uint32(0))
        return out

    def area(self, label: int) -> int:
        return int(self._areas[label]) if 0 <= label < len(self._areas) else 0

    def value_at(self, y: int, x: int) -> int:
        if 0 <= y < self.labels.shape[0] and 0 <= x < self.labels.shape[1]:
            return int(self.labels[y, x])
        return 0

    def blend(self, rgb: np.ndarray, y0: int, y1: int, x0: int, x1: int, step: int = 1) -> np.ndarray:
        """Draw the layer over ``rgb`` (the same region and step as :meth:`ImageStack.render`).

        Integer arithmetic and one table lookup per pixel (no boolean indexing): fast enough per redraw.
        """
        if not self.visible or self.opacity <= 0:
            return rgb
        region = self.labels[y0:y1:step, x0:x1:step][: rgb.shape[0], : rgb.shape[1]]
        shown = outlines(region) if self.outline else region > 0
        alpha = max(float(self.opacity), 0.5) if self.outline else float(self.opacity)
        weight = int(round(alpha * 256))
        colours = self._colours.astype(np.uint16) * weight
        tinted = colours.take(np.minimum(region, len(colours) - 1), axis=0)
        tinted += rgb.astype(np.uint16) * (256 - weight)
        tinted >>= 8
        return np.where(shown[..., None], tinted.astype(np.uint8), rgb)

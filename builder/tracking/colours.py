"""Fixed colours of track ids (golden-ratio hues): the report, the player and the lineage view share them."""

from __future__ import annotations

import numpy as np


def track_colour(label: int) -> tuple[float, float, float]:
    """A stable, distinct colour per track id (golden-ratio hues)."""
    import colorsys

    return colorsys.hsv_to_rgb((label * 0.618033988749895) % 1.0, 0.85, 1.0)


def track_colours(count: int) -> np.ndarray:
    """(count, 3) uint8 colours of track ids 0 .. count-1, the same as :func:`track_colour` (0 is black)."""
    hue = (np.arange(count) * 0.618033988749895) % 1.0
    sector = np.floor(hue * 6.0)
    frac = hue * 6.0 - sector
    s, v = 0.85, 1.0
    p, q, t = v * (1 - s), v * (1 - s * frac), v * (1 - s * (1 - frac))
    choices = [np.stack(c, axis=-1) for c in (
        (np.full(count, v), t, np.full(count, p)), (q, np.full(count, v), np.full(count, p)),
        (np.full(count, p), np.full(count, v), t), (np.full(count, p), q, np.full(count, v)),
        (t, np.full(count, p), np.full(count, v)), (np.full(count, v), np.full(count, p), q))]
    rgb = np.choose(sector.astype(int)[:, None] % 6, choices)
    out = np.round(rgb * 255).astype(np.uint8)
    if count:
        out[0] = 0
    return out

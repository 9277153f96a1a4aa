"""Where a pretrained encoder file is: `pretrain.out` and `backbone.from` resolved the same way (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path


def encoder_path(value: str, base_dir: Path) -> Path:
    """The ``.keras`` file a ``pretrain.out`` or ``backbone.from`` value names, absolute and resolved
    (``~`` expanded, relative to ``base_dir``, ``.keras`` added when missing)."""
    path = Path(value).expanduser()
    path = path if path.is_absolute() else Path(base_dir) / path
    if path.suffix != ".keras":
        path = path.with_suffix(".keras")
    return path.resolve()

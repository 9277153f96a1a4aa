"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Every writer goes to a temporary file in the same folder, flushes it to disk and then renames it over the
target with :func:`os.replace`, which is atomic on POSIX and Windows when both paths are on the same volume.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _temp_path_for(path: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def atomic_write_with(path: str | os.PathLike, writer: Callable[[Path], object], *, suffix: str = "") -> Path:
    """Call ``writer(temp_path)`` and move the finished file onto ``path`` atomically.

    Parameters
    ----------
    path : str or PathLike
        Final file path; its folder is created if needed.
    writer : callable
        Writes the complete file to the temporary path it is given.
    suffix : str
        Extension the temporary file must carry (e.g. ``".keras"``, which Keras insists on).

    Returns
    -------
    Path
        The final path.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path_for(target)
    if suffix:
        tmp_with_suffix = tmp.with_name(tmp.name + suffix)
        tmp.replace(tmp_with_suffix)
        tmp = tmp_with_suffix
    try:
        writer(tmp)
        _fsync_file(tmp)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as error:
        if error.filename is None:  # e.g. "No space left on device" raised while zipping: name the file
            error.filename = str(target)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write_with(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 by default, ``\\n`` line endings)."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike, value: Any, *, indent: int | None = 2) -> Path:
    """Write ``value`` as JSON to ``path`` atomically; NumPy scalars and arrays are converted."""
    return atomic_write_text(path, json.dumps(value, indent=indent, default=_jsonable) + "\n")


def atomic_save_keras(model: Any, path: str | os.PathLike) -> Path:
    """Save a Keras model (architecture, weights and optimizer state) to a ``.keras`` file atomically.

    Raises
    ------
    ValueError
        If ``path`` does not end with ``.keras``.
    """
    target = Path(path)
    if target.suffix != ".keras":
        raise ValueError(f"Invalid value received for argument `path`. Expected a name ending in '.keras'. "
                         f"Received: path={str(path)!r}")
    return atomic_write_with(target, lambda tmp: model.save(tmp), suffix=".keras")


def replace_with_link(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Make ``target`` a hard link to ``source`` (a copy where links are not supported), replacing it atomically."""
    source, target = Path(source), Path(target)
    tmp = target.with_name(f".{target.name}.link.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        import shutil

        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    # renaming a link onto another link of the same file does nothing (POSIX): the temporary name would stay behind
    tmp.unlink(missing_ok=True)
    return target


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

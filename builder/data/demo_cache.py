"""Demo data generated on first use, safely when several trainings or checks start at the same time.

The folder is generated under an exclusive file lock into a temporary sibling folder and renamed into place only
when complete, so another process sees either no folder (and waits for the lock) or the whole data set, never a
half-written one. A folder left incomplete by a killed generation (no ``README.txt``, which is written last) is
moved aside and generated again.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if missing) for the ``with`` block; waits for it.

    The operating system releases the lock when the process dies, so a killed process never leaves it held.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # retries for ~10 s, then raises
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def is_complete(folder: Path) -> bool:
    """True if ``folder`` holds a finished demo data set (its ``README.txt`` is written last)."""
    return (folder / "README.txt").is_file()


def ensure_demo(kind: str, folder: Path, *, seed: int = 0) -> Path:
    """Return ``folder`` holding the complete demo data set ``kind``, generating it once if needed.

    Parameters
    ----------
    kind : str
        A demo kind (see :data:`builder.data.demo.DEMO_KINDS`).
    folder : Path
        Where the data set lives, e.g. ``~/.cellwright/demo/demo-nuclei``.
    seed : int
        Seed of the generated images.

    Returns
    -------
    Path
        ``folder``.
    """
    if is_complete(folder):
        return folder
    from builder.data.demo import make_demo

    with file_lock(folder.parent / f".{folder.name}.lock"):
        if is_complete(folder):  # another process finished it while we waited
            return folder
        if folder.exists():  # left half-written by an older, killed generation
            shutil.rmtree(folder.parent / f".{folder.name}.incomplete", ignore_errors=True)
            os.replace(folder, folder.parent / f".{folder.name}.incomplete")
        temp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
        shutil.rmtree(temp, ignore_errors=True)
        try:
            make_demo(kind, temp, seed=seed)
            os.replace(temp, folder)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(folder.parent / f".{folder.name}.incomplete", ignore_errors=True)
    return folder

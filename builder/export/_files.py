"""Small file helpers shared by the exporters: checksums and atomic writes."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from builder.model_files.safe_import import sha256_file

__all__ = ["SCRATCH_PREFIX", "atomic_path", "clean_scratch_folders", "scratch_dir", "sha256_file"]

#: Prefix of the exporters' scratch folders in the system temporary folder; the creating process id follows.
SCRATCH_PREFIX = "cellwright-export-"
_SCRATCH = re.compile(rf"^{re.escape(SCRATCH_PREFIX)}(\d+)-")


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it onto ``target`` only if the block succeeds.

    Works for files and folders. A half-written export never appears under the final name.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    tmp = tmp_dir / target.name
    try:
        yield tmp
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


@contextlib.contextmanager
def scratch_dir(prefix: str = SCRATCH_PREFIX) -> Iterator[Path]:
    """Yield a temporary folder ``<prefix><pid>-*`` removed afterwards.

    Folders of earlier, killed exports (their process id no longer runs) are removed first.
    """
    clean_scratch_folders()
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    import psutil

    return pid == os.getpid() or psutil.pid_exists(pid)


def clean_scratch_folders(temp_dir: str | Path | None = None) -> list[Path]:
    """Delete ``cellwright-export-<pid>-*`` folders in the system temporary folder whose process is gone.

    A killed export cannot remove its own scratch folder; the next export does.
    """
    folder = Path(temp_dir or tempfile.gettempdir())
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = _SCRATCH.match(entry.name)
        if match and entry.is_dir() and not _alive(int(match.group(1))) and _rmtree(entry):
            removed.append(entry)
    return removed


def _rmtree(path: Path) -> bool:
    shutil.rmtree(path, ignore_errors=True)
    return not path.exists()

"""Turn "No space left on device" during training into a :class:`TrainingError` that says how to go on.

A checkpoint is written to a temporary file and renamed only when complete (``builder.io_utils``), so a full disk
never damages the last good checkpoint: freeing space and running ``cellwright train --resume RUN`` continues
from it.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

from builder.errors import TrainingError
from builder.training.run_folder import RunFolder

#: errno values meaning "the disk (or the user's quota on it) is full".
DISK_FULL_ERRNOS = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None)

#: Room kept for history, state and events besides the checkpoints, in bytes.
_MARGIN = 1 << 20


def is_disk_full(error: BaseException | None) -> bool:
    """True when ``error`` (or the error it was raised from) is an out-of-disk-space ``OSError``."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OSError) and (error.errno in DISK_FULL_ERRNOS or "No space left" in str(error)):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.1f} MB"


def checkpoint_size(run: RunFolder) -> int | None:
    """Size in bytes of the run's largest complete checkpoint (None before the first one)."""
    sizes = [p.stat().st_size for p in run.checkpoints_dir.glob("*.keras") if p.is_file()]
    return max(sizes) if sizes else None


def disk_full_error(run: RunFolder, error: OSError) -> TrainingError:
    """The explanation for a full disk: where, how much is free, how much an epoch needs, how to resume."""
    failed = getattr(error, "filename", None) or str(run.checkpoints_dir)
    free = shutil.disk_usage(run.path).free
    size = checkpoint_size(run)
    # An epoch writes its checkpoint and, when the score improved, a best-model candidate.
    needed = 2 * size + _MARGIN if size else None
    need_text = (f"; one epoch needs about {_mb(needed)} (two checkpoints of {_mb(size)} each, plus history)"
                 if needed and size else "")
    state = run.read_state() if run.state_path.is_file() else None
    if state:
        go_on = (f"then run 'cellwright train --resume {run.path}': it continues from the last good checkpoint "
                 f"(epoch {state['epoch']}, {state['checkpoint']}); nothing before it is lost.")
    else:
        go_on = "then start the run again with 'cellwright train RECIPE' (no epoch had finished yet)."
    shortfall = max((needed or _MARGIN) - free, _MARGIN)
    return TrainingError(
        where=str(Path(failed)),
        what=f"The disk is full: this file could not be written (No space left on device). "
        f"{_mb(free)} is free on the disk holding {run.path}{need_text}.",
        fix=f"Free at least {_mb(shortfall)} on that disk (e.g. delete old run folders or exports you no longer "
        f"need), {go_on}",
    )


@contextlib.contextmanager
def translate_disk_full(run: RunFolder) -> Iterator[None]:
    """Re-raise an out-of-disk-space error inside the block as :func:`disk_full_error`."""
    try:
        yield
    except OSError as error:
        if not is_disk_full(error):
            raise
        raise disk_full_error(run, error) from error

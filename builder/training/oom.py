"""Turn out-of-memory failures into a :class:`TrainingError` that says what to reduce."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from builder.errors import TrainingError

_OOM_WORDS = ("resourceexhausted", "out of memory", "oom when allocating", "failed to allocate",
              "cuda_error_out_of_memory", "resource_exhausted")


def is_oom_error(error: BaseException) -> bool:
    """True for TensorFlow/XLA/CUDA out-of-memory errors (and Python's MemoryError)."""
    if isinstance(error, MemoryError):
        return True
    names = {cls.__name__ for cls in type(error).__mro__}
    if "ResourceExhaustedError" in names:
        return True
    text = f"{type(error).__name__}: {error}".lower()
    return any(word in text for word in _OOM_WORDS)


def oom_training_error(
    error: BaseException,
    *,
    batch_size: int | None = None,
    patch_size: tuple[int, ...] | None = None,
    device: str = "GPU",
    where: str = "train.batch_size",
) -> TrainingError:
    """Build the user-facing error for an out-of-memory failure (no TensorFlow stack trace).

    The fix names the batch size and patch size that were used, and smaller values to try.
    """
    tips = []
    if batch_size is not None and batch_size > 1:
        tips.append(f"lower train.batch_size from {batch_size} to {max(batch_size // 2, 1)} (or use 'auto')")
    else:
        tips.append("lower train.batch_size (or set it to 'auto')")
    if patch_size:
        smaller = "x".join(str(max(int(s) // 2, 16)) for s in patch_size)
        shown = "x".join(str(int(s)) for s in patch_size)
        tips.append(f"use smaller patches in preprocess.patch_size ({shown} -> {smaller})")
    else:
        tips.append("use smaller patches (preprocess.patch_size)")
    tips.append("use a smaller model (fewer filters or levels, or a smaller backbone)")
    if device == "GPU":
        tips.append("keep train.precision at 'auto' (mixed precision halves activation memory)")
    first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    return TrainingError(
        where=where,
        what=f"The {device} ran out of memory during training ({first_line}).",
        fix="; ".join(tips) + ".",
    )


@contextlib.contextmanager
def translate_oom(
    *, batch_size: int | None = None, patch_size: tuple[int, ...] | None = None, device: str = "GPU"
) -> Iterator[None]:
    """Context manager: re-raise out-of-memory errors inside it as :func:`oom_training_error`."""
    try:
        yield
    except TrainingError:
        raise
    except Exception as error:
        if is_oom_error(error):
            raise oom_training_error(error, batch_size=batch_size, patch_size=patch_size, device=device) from None
        raise

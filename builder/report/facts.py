"""Facts about a run that the report derives from several files: training time, data folder, pixel size."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from builder.report.run_data import RunData

#: History columns holding the seconds an epoch took (the first one present is used).
TIME_COLUMNS = ("epoch_seconds", "time_s", "epoch_time_s", "seconds")


def epoch_seconds(run: RunData) -> list[float]:
    """Seconds per epoch: from the history's time column, else from the ``epoch`` events (``epoch_time_s``)."""
    for key in TIME_COLUMNS:
        values = [v for v in run.series(key) if math.isfinite(v) and v >= 0]
        if values:
            return values
    out = []
    for event in run.events:
        value = event.get("epoch_time_s") if event.get("event") == "epoch" else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            out.append(float(value))
    return out


def total_training_seconds(run: RunData) -> float | None:
    """Wall time of training: each ``start`` event to the next ``done``/``stopped``/``error`` event, summed
    (so resumed runs add up); the sum of the epoch times when the events are missing."""
    total, began = 0.0, None
    for event in run.events:
        kind, stamp = event.get("event"), event.get("time")
        if not isinstance(stamp, int | float):
            continue
        if kind == "start":
            began = float(stamp)
        elif kind in ("done", "stopped", "error", "cancelled") and began is not None:
            total += max(float(stamp) - began, 0.0)
            began = None
    if total > 0:
        return total
    seconds = epoch_seconds(run)
    return float(sum(seconds)) if seconds and sum(seconds) > 0 else None


def duration(seconds: float | None) -> str:
    """``3 min 48 s``, ``1 h 5 min``, ``42 s``; ``not recorded`` for None or 0."""
    if not seconds or seconds <= 0:
        return "not recorded"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _recipe_dir(run: RunData) -> Path | None:
    base = (run.origin or {}).get("base_dir")
    return Path(base) if isinstance(base, str) and base else None


def data_folder(run: RunData) -> tuple[str, str]:
    """(folder, layout) of the data actually used: split.json's ``root``/``layout``, else the recipe's
    ``data.root`` (made absolute with origin.json's recipe folder) and ``data.layout``."""
    split = run.split or {}
    layout = split.get("layout") or run.get("data.layout") or "not recorded"
    root = split.get("root")
    if not root:
        root = run.get("data.root")
        base = _recipe_dir(run)
        if isinstance(root, str) and base is not None and not Path(root).is_absolute():
            root = str((base / root).resolve())
    return str(root or "not recorded"), str(layout)


def first_image_path(run: RunData) -> Path | None:
    """The first image listed in split.json (``splits`` rows with ``image_path``), made absolute with ``root``."""
    split = run.split or {}
    splits = split.get("splits")
    if not isinstance(splits, dict):
        splits = {}
    for name in ("train", "validation", "test"):
        rows = splits.get(name) or []
        for row in rows if isinstance(rows, list) else []:
            path = row.get("image_path") if isinstance(row, dict) else None
            if isinstance(path, str) and path:
                found = Path(path)
                return found if found.is_absolute() or not split.get("root") else Path(split["root"]) / found
    return None


def pixel_size(run: RunData) -> tuple[float | None, str]:
    """(µm per pixel, where it came from): the recipe's ``data.pixel_size``, else the first image's metadata."""
    value = run.get("data.pixel_size")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value), "recipe"
    path = first_image_path(run)
    if path is None or not path.is_file():
        return None, ""
    try:
        from builder.data.readers import read_image

        found = read_image(path).pixel_size
    except Exception:  # unreadable or moved data must not stop the report
        return None, ""
    return (float(found), f"metadata of {path.name}") if found else (None, "")


def postprocess_sentence(run: RunData) -> str | None:
    """The instance post-processing in words: thresholds, and how tuning on validation images changed the score."""
    post = dict((run.metrics or {}).get("postprocess") or {})
    if not post:
        return None
    tuning = post.get("tuning") if isinstance(post.get("tuning"), dict) else None
    saved = run.postprocess or {}
    if tuning is None and "tuned_on" in saved and all(saved.get(k) == post.get(k)
                                                      for k in ("threshold", "seed_threshold", "nms_threshold")
                                                      if k in post and k in saved):
        tuning = saved  # evaluated again with the thresholds tuned during training
    values = []
    star = run.get("train.instance_target") == "star_convex"
    labels = ((("threshold", "centre probability"), ("nms_threshold", "largest overlap (NMS)")) if star
              else (("threshold", "foreground"), ("seed_threshold", "seed")))
    for key, label in labels:
        if isinstance(post.get(key), int | float):
            values.append(f"{label} {_short(post[key])}")
    size = post.get("min_size")
    extra = f"; objects smaller than {size} pixels removed" if isinstance(size, int | float) and size else ""
    shift = [post.get(k) for k in ("shift_y", "shift_x")]
    if all(isinstance(v, int | float) for v in shift) and any(shift):
        extra += (f"; the network's output shifted by {_short(shift[0])} px down, {_short(shift[1])} px right to "
                  "register the outlines with the training masks")
    if tuning and tuning.get("tuned_on"):
        text = f"Thresholds tuned on {tuning['tuned_on']} validation images: {', '.join(values)}{extra}."
        score, start = tuning.get("score"), tuning.get("start_score")
        if isinstance(score, int | float) and isinstance(start, int | float):
            name = str(tuning.get("score_name", "score")).split(" (")[0]
            name = "mean AP" if name in ("ap_mean", "ap") else name
            text += f" Validation score ({name}) {_short(score)} vs {_short(start)} with the defaults."
        return text
    return f"Fixed thresholds (not tuned): {', '.join(values) or 'defaults'}{extra}."


def _short(value: Any) -> str:
    return f"{value:.2g}" if isinstance(value, float) else str(value)

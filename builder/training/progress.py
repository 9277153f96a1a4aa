"""A terminal progress display rendered from training events (no TensorFlow needed).

Use it as an event sink: ``fit(..., events=ProgressPrinter())``, or feed it events parsed from a worker's
JSON lines with :func:`builder.events.parse_event_line`.
"""

from __future__ import annotations

import sys
from typing import IO, Any

_SHOWN_FIRST = ("loss", "val_loss")
_HIDDEN = {"learning_rate"}
#: How a job's progress line starts, by its ``stage`` (or ``job``) name.
JOB_LABELS = {"tune": "tuning thresholds", "evaluate": "evaluating", "predict": "predicting"}


def format_duration(seconds: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; ``None`` -> ``--:--``."""
    if seconds is None:
        return "--:--"
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_metrics(metrics: dict[str, Any], *, limit: int = 6) -> str:
    """``loss 0.123  val_loss 0.2  accuracy 0.91`` (losses first, at most ``limit`` values)."""
    keys = [k for k in _SHOWN_FIRST if k in metrics]
    keys += sorted(k for k in metrics if k not in keys and k not in _HIDDEN)
    parts = []
    for key in keys[:limit]:
        value = metrics[key]
        parts.append(f"{key} {value:.4g}" if isinstance(value, (int, float)) else f"{key} {value}")
    return "  ".join(parts)


def progress_bar(fraction: float, width: int = 24) -> str:
    """``[#########...............]`` for ``fraction`` in [0, 1]."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(round(fraction * width))
    return "[" + "#" * filled + "." * (width - filled) + "]"


class ProgressPrinter:
    """Event sink that draws a one-line progress bar per epoch and a summary line when training ends.

    On a terminal the batch line is redrawn in place (carriage return); otherwise only epoch lines are printed,
    so log files stay readable.
    """

    def __init__(self, stream: IO[str] | None = None, *, width: int = 24, interactive: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._line_open = False

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "start":
            self._start(event)
        elif kind == "batch" and event.get("job"):
            self._job_step(event)
        elif kind == "batch" and self.interactive:
            self._batch(event)
        elif kind == "epoch":
            self._epoch(event)
        elif kind == "done":
            self._done(event)
        elif kind == "error":
            self._write_line(f"training stopped: {event.get('where', '')}: {event.get('what', '')}".strip())
            if event.get("fix"):
                self._write_line(f"    fix: {event['fix']}")
        elif kind in ("warning", "log") and event.get("message"):
            self._write_line(f"{kind}: {event['message']}")

    def _write_line(self, text: str) -> None:
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def _start(self, event: dict[str, Any]) -> None:
        what = "resuming" if event.get("resumed") else "training"
        where = f" {event.get('device', '')}" if event.get("device") else ""
        text = f"{what} {event.get('epochs', '?')} epochs on{where} ({event.get('precision', 'float32')})"
        if event.get("initial_epoch"):
            text += f" from epoch {int(event['initial_epoch']) + 1}"
        if event.get("run"):
            text += f" -> {event['run']}"
        self._write_line(text)

    def _batch(self, event: dict[str, Any]) -> None:
        steps, step = event.get("steps"), event.get("step", 0)
        fraction = step / steps if steps else 0.0
        counter = f"{step}/{steps}" if steps else f"{step}"
        text = (f"\repoch {event.get('epoch')}/{event.get('epochs')} {progress_bar(fraction, self.width)} {counter}  "
                f"{format_metrics(event.get('metrics', {}), limit=3)}  ETA {format_duration(event.get('eta_s'))}")
        self.stream.write(text.ljust(100))
        self.stream.flush()
        self._line_open = True

    def _job_step(self, event: dict[str, Any]) -> None:
        """Progress of a job other than the fit (evaluation: tuning, then scoring): ``step`` of ``total`` units.

        On a terminal the line is redrawn in place; in a log file a line is written at every tenth of the way."""
        step, total = int(event.get("step") or 0), int(event.get("total") or 0)
        label = JOB_LABELS.get(str(event.get("stage") or event.get("job")), str(event.get("job")))
        unit = str(event.get("unit") or "item")
        text = f"{label} {progress_bar(step / total if total else 0.0, self.width)} {step}/{total or '?'} {unit}s"
        if self.interactive:
            done = bool(total) and step >= total
            self.stream.write("\r" + (text if done else text.ljust(100)) + ("\n" if done else ""))
            self.stream.flush()
            self._line_open = not done
            return
        if total and (step == 1 or step >= total or (10 * step) // total > (10 * (step - 1)) // total):
            self._write_line(text)

    def _epoch(self, event: dict[str, Any]) -> None:
        if self._line_open:
            self.stream.write("\r")
            self._line_open = False
        lr = event.get("learning_rate")
        lr_text = f"  lr {lr:.2g}" if isinstance(lr, (int, float)) else ""
        text = (f"epoch {event.get('epoch')}/{event.get('epochs')} {progress_bar(1.0, self.width)} "
                f"{format_metrics(event.get('metrics', {}))}{lr_text}  "
                f"{format_duration(event.get('epoch_time_s'))}/epoch  ETA {format_duration(event.get('eta_s'))}")
        self.stream.write(text.ljust(100).rstrip() + "\n")
        self.stream.flush()

    def _done(self, event: dict[str, Any]) -> None:
        if event.get("stage") == "job":  # the whole job (training, evaluation, report, export) has finished
            headline = event.get("metrics") or {}
            score = f": test {headline.get('name')} {headline.get('value'):.3f}" if headline.get("name") else ""
            self._write_line(f"finished{score}")
            return
        best = event.get("best_value")
        best_text = (f"; best {event.get('monitor')} {best:.4g} at epoch {event.get('best_epoch')}"
                     if isinstance(best, (int, float)) else "")
        early = " (stopped early)" if event.get("stopped_early") else ""
        self._write_line(f"done: {event.get('epochs_completed')} epochs{early}{best_text}")

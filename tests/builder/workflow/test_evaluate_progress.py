"""Evaluation reports its progress (issue 20, point 7): threshold tuning and scoring emit "image i of n" events,
the CLI draws them as a bar, ``--events`` prints them as JSON lines."""

from __future__ import annotations

import io
import json

from builder.cli.main import main
from builder.events import parse_event_line
from builder.tasks.instances import DEFAULT_GRID, MIN_SIZE_FRACTIONS
from builder.training.progress import ProgressPrinter
from builder.workflow.evaluate_job import evaluate_run
from tests.builder.workflow.predict_helpers import make_recipe, threshold_model, write_instance_dataset, write_run


def _run(tmp_path, test_images: int = 3):
    data = tmp_path / "data"
    write_instance_dataset(data, splits={"train": 1, "validation": 2, "test": test_images})
    return write_run(tmp_path / "run", threshold_model(3), make_recipe("instance_segmentation", data))


def _steps(events: list[dict], stage: str, unit: str) -> list[tuple[int, int]]:
    return [(e["step"], e["total"]) for e in events
            if e["event"] == "batch" and e.get("job") == "evaluate" and e["stage"] == stage and e["unit"] == unit]


def test_tuning_and_scoring_emit_counted_progress_in_order(tmp_path):
    events: list[dict] = []
    metrics = evaluate_run(_run(tmp_path), events=events.append)

    tune_images, settings, images = (_steps(events, "tune", "image"), _steps(events, "tune", "setting"),
                                     _steps(events, "evaluate", "image"))
    assert tune_images == [(1, 2), (2, 2)]  # the validation images' network outputs
    pairs = len(DEFAULT_GRID["threshold"]) * len(DEFAULT_GRID["seed_threshold"]) + 1  # the grid and the start
    assert pairs <= len(settings) <= pairs + len(MIN_SIZE_FRACTIONS)  # then the smallest object sizes
    assert [s for s, _ in settings] == list(range(1, len(settings) + 1))
    assert {total for _, total in settings} == {len(settings)}
    assert images == [(1, 3), (2, 3), (3, 3)]
    order = [(e["stage"], e["unit"]) for e in events if e["event"] == "batch"]
    assert order.index(("evaluate", "image")) > max(i for i, o in enumerate(order) if o[0] == "tune")
    assert events[-1]["event"] == "metric" and events[-1]["value"] == metrics["headline"]["value"]
    assert all(json.dumps(e) for e in events)


def test_cli_prints_a_progress_bar_and_json_lines_with_events(tmp_path, capsys):
    run = _run(tmp_path, test_images=2)
    assert main(["evaluate", str(run)]) == 0
    err = capsys.readouterr().err
    assert "evaluating [" in err and "2/2 images" in err and "tuning thresholds [" in err

    assert main(["evaluate", str(run), "--events"]) == 0
    lines = capsys.readouterr().out.splitlines()
    events = [e for e in map(parse_event_line, lines) if e is not None]
    assert _steps(events, "evaluate", "image") == [(1, 2), (2, 2)]
    assert len(events) == len([line for line in lines if line.strip()])  # nothing but events on stdout


def test_progress_bar_redraws_in_place_on_a_terminal():
    stream = io.StringIO()
    printer = ProgressPrinter(stream, interactive=True, width=10)
    for step in (1, 2, 3, 4):
        printer({"event": "batch", "job": "evaluate", "stage": "evaluate", "unit": "image", "step": step, "total": 4})
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("evaluating [##########] 4/4 images\n")
    assert "evaluating [#####.....] 2/4 images" in text

"""One RunFolder: typed readers and writers, old folders on disk, broken files, stale temp files after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from builder.errors import CellwrightError, TrainingError
from builder.run_folder import NormalizationRecord, RunFolder, files, is_run_folder, list_runs, open_run_folder
from builder.run_folder.create import create_run_folder

RECIPE = {"name": "old-run", "task": "segmentation",
          "data": {"root": "data", "images": "images", "masks": "masks", "classes": ["bg", "cell"]}}


def _old_run_folder(root: Path) -> Path:
    """A run folder exactly as the previous Cellwright version wrote it (plain file names, plain JSON)."""
    run = root / "old-run-20240101-120000"
    (run / "checkpoints").mkdir(parents=True)
    (run / "recipe.yaml").write_text(yaml.safe_dump(RECIPE), encoding="utf-8")
    (run / "origin.json").write_text(json.dumps({"base_dir": str(root / "project")}), encoding="utf-8")
    (run / "normalization.json").write_text(json.dumps({"normalize": {"offset": [1.0], "scale": [2.0]},
                                                        "target_normalize": None}), encoding="utf-8")
    (run / "data_info.json").write_text(json.dumps({"classes": ["bg", "cell"], "seed": 3}), encoding="utf-8")
    (run / "postprocess.json").write_text(json.dumps({"threshold": 0.4}), encoding="utf-8")
    (run / "split.json").write_text(json.dumps({"train": ["a.tif"], "test": ["b.tif"]}), encoding="utf-8")
    (run / "state.json").write_text(json.dumps({"epoch": 2, "checkpoint": "epoch-0002.keras"}), encoding="utf-8")
    (run / "history.csv").write_text("epoch,loss\n1,0.5\n2,0.25\n", encoding="utf-8")
    (run / "events.jsonl").write_text('{"event": "start"}\n{"event": "batch", "step": 1}\nnot json\n'
                                      '{"event": "done"}\n', encoding="utf-8")
    (run / "checkpoints" / "last.keras").write_bytes(b"placeholder")
    (run / "report.pdf").write_bytes(b"%PDF")
    np.save(run / "test_input.npy", np.ones((1, 4, 4, 1), np.float32))
    return run


def test_old_run_folder_opens_through_the_typed_readers(tmp_path):
    run = open_run_folder(_old_run_folder(tmp_path))
    assert run.read_normalization() == NormalizationRecord({"offset": [1.0], "scale": [2.0]}, None)
    assert run.read_origin().base_dir == tmp_path / "project"
    assert run.read_data_info().classes == ["bg", "cell"]
    assert run.read_postprocess() == {"threshold": 0.4}
    assert run.read_split()["test"] == ["b.tif"]
    assert run.read_state()["epoch"] == 2
    assert run.read_history() == [{"epoch": 1.0, "loss": 0.5}, {"epoch": 2.0, "loss": 0.25}]
    assert [e["event"] for e in run.read_events()] == ["start", "done"]
    assert run.model_checkpoint() == run.last_checkpoint  # no best.keras: fall back to the last epoch
    assert run.existing_report() == run.path / "report.pdf"
    assert run.read_test_input().shape == (1, 4, 4, 1)
    recipe = run.read_recipe()
    assert recipe.name == "old-run" and recipe.base_dir == tmp_path / "project"
    assert run.read_recipe_data()["task"] == "segmentation"


def test_writers_round_trip_and_keep_the_names_on_disk(tmp_path):
    run = create_run_folder(tmp_path, "new run", recipe=RECIPE, split={"train": []}, environment={"python": "3"})
    run.write_normalization(NormalizationRecord({"min": [0.0], "max": [9.0]}))
    run.write_origin(tmp_path)
    run.write_data_info({"classes": [1, 2]})
    run.write_metrics({"headline": {"name": "iou", "value": 0.5}})
    run.write_data_check([{"severity": "warning"}])
    run.write_test_input(np.zeros((1, 2, 2, 1), np.float32))
    run.write_state({"epoch": 1})
    on_disk = sorted(p.name for p in run.path.iterdir())
    assert on_disk == ["checkpoints", "data_check.json", "data_info.json", "environment.json", "metrics.json",
                       "normalization.json", "origin.json", "recipe.yaml", "split.json", "state.json",
                       "test_input.npy"]
    assert run.path.name.startswith("new-run-")
    assert run.read_normalization().normalize == {"min": [0.0], "max": [9.0]}
    assert run.read_data_info().classes == ["1", "2"]
    assert run.read_metrics()["headline"]["value"] == 0.5
    assert is_run_folder(run.path) and list_runs(tmp_path, "new run") == [run]


def test_broken_and_wrong_typed_files_name_the_file(tmp_path):
    run = RunFolder(_old_run_folder(tmp_path))
    run.postprocess_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CellwrightError) as caught:
        run.read_postprocess()
    assert caught.value.where == str(run.postprocess_path) and "JSONDecodeError" in caught.value.what
    assert "postprocess.json" in caught.value.fix
    run.split_path.write_text("[1, 2]", encoding="utf-8")
    value, note = run.read_json_or_note(files.SPLIT)
    assert value is None and note == "split.json holds a list, expected a dict; it is left out."
    with pytest.raises(TypeError, match="Expected a list for data_check.json"):
        run.write_data_check({"not": "a list"})  # type: ignore[arg-type]


def test_missing_state_and_checkpoint_say_how_to_continue(tmp_path):
    run = create_run_folder(tmp_path, "empty")
    with pytest.raises(TrainingError, match="no finished epoch"):
        run.read_state()
    with pytest.raises(TrainingError, match="no checkpoint") as caught:
        run.require_model_checkpoint()
    assert "cellwright train --resume" in caught.value.fix
    assert run.read_normalization() is None and run.read_history() == []


_KILLED_WRITER = """
import sys, time
from builder.io_utils import atomic_write_with
def writer(tmp):
    tmp.write_bytes(b"half")
    print("writing", flush=True)
    time.sleep(60)
atomic_write_with(sys.argv[1], writer, suffix=".keras")
"""


def test_stale_temp_files_of_a_killed_writer_are_cleaned(tmp_path):
    run = create_run_folder(tmp_path, "killed")
    run.write_state({"epoch": 1})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(run.best_checkpoint)],
                              stdout=subprocess.PIPE, text=True, env=env)
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    stale = [p for p in run.checkpoints_dir.iterdir()]
    assert len(stale) == 1 and stale[0].name.startswith(".best.keras.")  # the killed writer left it
    assert not run.best_checkpoint.exists()
    removed = run.clean_stale_temp_files()
    assert removed == stale and not any(run.checkpoints_dir.iterdir())
    assert run.state_path.is_file()  # real files stay

"""The foundation commands: help, validate, explain, new, schema, doctor; exit codes, JSON, no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import recipes
from builder.cli.main import main
from builder.recipe import load_recipe

EXAMPLE = sorted(recipes.EXAMPLES.glob("*.yaml"))[0]


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("validate", "explain", "new", "schema", "doctor"):
        assert command in out


def test_validate_ok_and_problems_exit_codes(tmp_path: Path, capsys):
    assert main(["validate", str(EXAMPLE)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntask: segmentaton\ntrain:\n  epochs: 0\n")
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:2:1 task" in out and "Did you mean `segmentation`?" in out
    assert f"{bad}:4:3 train.epochs" in out


def test_validate_json_output(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntask: segmentation\ntrain: {epochz: 3}\n")
    assert main(["validate", "--json", str(bad), str(EXAMPLE)]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    first, second = payload["results"]
    assert first["ok"] is False and second["ok"] is True
    problem = first["problems"][0]
    assert problem["key"] == "train.epochz" and problem["line"] == 3 and "epochs" in problem["what"]


def test_missing_file_is_a_user_error(tmp_path: Path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


def test_explain_fills_every_default(capsys):
    assert main(["explain", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "(default)" in out
    assert "warmup_epochs: 0" in out
    data = yaml.safe_load(out)
    assert data["train"]["optimizer"]["name"] in ("adam", "adamw", "sgd", "rmsprop")
    assert data["name"] == load_recipe(EXAMPLE).name


@pytest.mark.parametrize("task", ["classification", "segmentation", "instance_segmentation",
                                  "image_to_image", "tracking"])
def test_new_writes_a_valid_commented_recipe(task: str, tmp_path: Path, capsys):
    out = tmp_path / f"{task}.yaml"
    assert main(["new", "--task", task, "--out", str(out), "--name", "mine"]) == 0
    text = out.read_text()
    assert text.startswith("# yaml-language-server: $schema=file://")
    assert text.count("#") > 3
    recipe = load_recipe(out)
    assert recipe.task == task and recipe.name == "mine"
    assert main(["new", "--task", task, "--out", str(out)]) == 2  # never overwrites without --force
    assert "already exists" in capsys.readouterr().err
    assert out.read_text() == text


def test_schema_command_writes_the_shipped_schema(tmp_path: Path):
    out = tmp_path / "s.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(recipes.SCHEMA.read_text())


def _run_fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_light_commands_never_import_tensorflow(tmp_path: Path):
    out = tmp_path / "n.yaml"
    code = (
        "import sys\n"
        "from builder.cli.main import main\n"
        f"assert main(['validate', {str(EXAMPLE)!r}]) == 0\n"
        f"assert main(['explain', {str(EXAMPLE)!r}]) == 0\n"
        f"assert main(['new', '--task', 'segmentation', '--out', {str(out)!r}]) == 0\n"
        "assert main(['schema']) == 0\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = _run_fresh(code)
    assert result.returncode == 0, result.stderr[-2000:]


def test_doctor_reports_versions_gpu_and_cache(monkeypatch, tmp_path: Path, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert main(["doctor", "--json"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert report["python"].count(".") == 2
    assert report["tensorflow"] and report["keras"]
    assert report["keras_cache"] == str(tmp_path / "kh" / "models")
    assert isinstance(report["gpu_visible"], bool)
    if not report["gpu_visible"]:
        assert len(report["reason"]) > 40


def test_bench_startup_reports_time_without_tensorflow(capsys):
    code = main(["bench", "--repeat", "1", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["tensorflow_imported"] is False
    assert result["median_s"] > 0 and result["target_s"] == 1.5
    assert code == (0 if result["ok"] else 1)

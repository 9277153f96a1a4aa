"""``cellwright demo``: trains the nuclei example on demo data and writes (and would open) its report."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from builder.cli.main import main
from builder.workflow.demo_run import demo_recipe, example_path, write_demo_recipe


def test_demo_recipe_is_the_example_or_a_tiny_variant(tmp_path, monkeypatch):
    monkeypatch.setenv("CELLWRIGHT_HOME", str(tmp_path / "home"))
    example = yaml.safe_load(example_path().read_text())
    full = demo_recipe(tiny=False, epochs=None)
    assert full["data"] == example["data"] and full["train"]["epochs"] == example["train"]["epochs"]
    tiny = demo_recipe(tiny=True, epochs=2)
    assert tiny["train"]["epochs"] == 2 and tiny["model"]["params"]["base_filters"] == 4
    assert Path(tiny["data"]["root"]) == tmp_path / "home" / "demo" / "nuclei-tiny"
    assert len(list((tmp_path / "home" / "demo" / "nuclei-tiny").rglob("*.tif"))) == 16  # 8 images + 8 masks
    path = write_demo_recipe(tmp_path / "runs", tiny=True)
    assert path.parent == tmp_path / "runs" and main(["validate", str(path)]) == 0


def test_demo_refuses_zero_epochs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CELLWRIGHT_HOME", str(tmp_path))
    assert main(["demo", "--tiny", "--epochs", "0", "--no-open"]) == 2
    assert "Received: epochs=0" in capsys.readouterr().err


@pytest.mark.slow
def test_tiny_demo_writes_the_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CELLWRIGHT_HOME", str(tmp_path))
    assert main(["demo", "--tiny", "--no-open"]) == 0
    out = capsys.readouterr().out
    report = Path(out.split("Report: ")[1].split("\n")[0])
    assert report.name == "report.html" and report.parent.parent == tmp_path / "demo-runs"
    assert "demo-nuclei-instances" in report.read_text(encoding="utf-8")

"""``compare_runs`` and the ``report`` / ``compare`` CLI commands."""

from __future__ import annotations

import json
import re

import pytest

from builder.cli.main import main
from builder.report import compare_runs
from tests.builder.report.fixtures import write_run


def test_compare_table_has_both_runs_and_recipe_differences(tmp_path):
    a = write_run(tmp_path, "segmentation", name="small")
    b = write_run(tmp_path, "segmentation", name="wide", seed=3, overfit=False,
                  recipe_changes={"train": {"epochs": 20, "optimizer": {"name": "adamw", "learning_rate": 0.0005}}})
    out = compare_runs([a, b], tmp_path / "cmp.html")
    html = out.read_text(encoding="utf-8")
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", html).group(1)
    assert "small-run" in header and "wide-run" in header
    assert "headline: Mean IoU" in html and "★" in html
    assert "train.optimizer.name" in html and "adamw" in html and "train.epochs" in html
    assert "data.root" not in html  # unchanged keys are not listed
    assert re.findall(r'src="data:image/png;base64,', html)
    assert not re.search(r"<script|<link", html)


def test_compare_needs_two_runs(tmp_path):
    from builder.errors import CellwrightError

    with pytest.raises(CellwrightError, match="at least two"):
        compare_runs([write_run(tmp_path, "classification")], tmp_path / "x.html")


def test_cli_report_and_compare(tmp_path, capsys):
    a = write_run(tmp_path, "classification", name="a")
    b = write_run(tmp_path, "instance_segmentation", name="b")
    assert main(["report", str(a), "--format", "html", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == [str(a / "report.html")]
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "c.html")]) == 0
    assert "Wrote" in capsys.readouterr().out and (tmp_path / "c.html").is_file()
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err

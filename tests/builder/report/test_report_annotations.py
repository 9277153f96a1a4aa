"""The report's "Annotations and model versions" part: counts, checksum, guard winner and the versions curve."""

from __future__ import annotations

import base64
import json
import re

from builder.report.build import build_report
from builder.report.content import SECTION_TITLES
from tests.builder.report.fixtures import write_run


def _version_rows():
    return [
        {"version": "1", "run": "runs/a", "n_annotations": "8", "guard_score": "0.61", "accepted": "yes",
         "current": "", "guard_metric": "Balanced accuracy"},
        {"version": "2", "run": "runs/b", "n_annotations": "14", "guard_score": "0.70", "accepted": "yes",
         "current": "yes", "guard_metric": "Balanced accuracy"},
        {"version": "3", "run": "runs/c", "n_annotations": "20", "guard_score": "0.66", "accepted": "no",
         "current": "", "guard_metric": "Balanced accuracy"},
    ]


def test_report_shows_annotations_guard_winner_and_curve(tmp_path):
    run = write_run(tmp_path, "classification")
    (run / "annotations.json").write_text(json.dumps({
        "n_annotations": 20, "n_checked": 6, "n_guard": 4, "n_proposed_left_out": 3,
        "images": [f"cell_{i:02d}.png" for i in range(20)], "sha256": "ab" * 32}))
    (run / "model_version.json").write_text(json.dumps({
        "parent": "runs/b", "current": "runs/b", "versions": _version_rows(),
        "decision": {"metric": "Balanced accuracy", "current": 0.70, "new": 0.66, "difference": -0.04,
                     "accepted": False, "winner": "current", "n_images": 4, "tolerance": 0.0}}))
    (html_path,) = build_report(run)
    html = html_path.read_text(encoding="utf-8")
    assert re.findall(r"<h2>(.*?)</h2>", html) == list(SECTION_TITLES)  # a part of Data, not a new section
    part = html[html.index("Annotations and model versions"):]
    assert "Trained on 20 annotated images" in part and "6 of them model proposals a person checked" in part
    assert "ab" * 32 in part and "cell_00.png" in part and "and 8 more" in part
    assert "this run 0.66, the current model 0.7 (difference -0.04). Winner: the current model." in part
    figure = re.search(r'<img alt="Annotations vs score[^"]*" src="data:image/png;base64,([^"]+)"', part)
    assert figure and base64.b64decode(figure.group(1))[:4] == b"\x89PNG"


def test_runs_without_annotation_records_have_no_such_part(tmp_path):
    (html_path,) = build_report(write_run(tmp_path, "segmentation"))
    assert "Annotations and model versions" not in html_path.read_text(encoding="utf-8")

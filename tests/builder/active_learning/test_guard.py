"""The guard keeps the current model unless the retrained one is not worse on the guard images."""

from __future__ import annotations

import math

import pytest

from builder.active_learning.guard import judge
from builder.active_learning.versions import add_version, current_run, read_versions


def test_judge_refuses_a_worse_model_and_says_by_how_much():
    decision = judge(0.80, 0.72, metric="balanced accuracy", n_images=5)
    assert not decision.accepted and decision.winner == "current"
    assert decision.difference == pytest.approx(-0.08)
    assert decision.sentence() == ("The current model stays; the retrained model is kept aside: balanced accuracy "
                                   "on 5 guard image(s) 0.720 vs 0.800 (worse by 0.080).")


def test_judge_accepts_equal_or_better_and_within_tolerance():
    assert judge(0.8, 0.8, metric="m", n_images=3).accepted
    assert judge(0.8, 0.85, metric="m", n_images=3).winner == "new"
    assert judge(0.8, 0.79, metric="m", n_images=3, tolerance=0.02).accepted
    assert not judge(0.8, 0.79, metric="m", n_images=3).accepted
    assert judge(0.30, 0.25, metric="error", n_images=3, higher_is_better=False).accepted
    assert not judge(0.8, math.nan, metric="m", n_images=0).accepted
    with pytest.raises(ValueError, match="Expected a float >= 0"):
        judge(0.8, 0.9, metric="m", n_images=3, tolerance=-1)


def test_versions_table_keeps_current_on_the_newest_accepted(tmp_path):
    add_version(tmp_path, {"run": "runs/b", "parent": "runs/a", "n_annotations": 12, "guard_score": "0.7",
                           "parent_guard_score": "0.6", "accepted": True, "parent_n_annotations": 8})
    add_version(tmp_path, {"run": "runs/c", "parent": "runs/b", "n_annotations": 16, "guard_score": "0.65",
                           "parent_guard_score": "0.7", "accepted": False})
    rows = read_versions(tmp_path)
    assert [(r["version"], r["run"], r["n_annotations"], r["accepted"]) for r in rows] == [
        ("1", "runs/a", "8", "yes"), ("2", "runs/b", "12", "yes"), ("3", "runs/c", "16", "no")]
    assert current_run(tmp_path) == "runs/b"

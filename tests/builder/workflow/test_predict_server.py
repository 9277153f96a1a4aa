"""``cellwright serve``: a real worker process answers several requests with one model load, and a request
that fails (a broken image, a bad line, an output folder in the way) does not stop it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import tifffile

from builder.workflow.predict_server import parse_request
from tests.builder.workflow.predict_helpers import (
    DISKS,
    disk_image,
    disk_labels,
    write_threshold_instance_run,
    write_tiff,
)

ROOT = Path(__file__).resolve().parents[3]


def _serve(run: Path, lines: list[str], cwd: Path) -> list[dict]:
    """Start ``cellwright serve RUN``, send ``lines``, close its input; the events it printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "builder.cli.main", "serve", str(run)], input="\n".join(lines),
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_two_requests_one_model_load_and_a_bad_image_does_not_stop_it(tmp_path):
    run = write_threshold_instance_run(tmp_path / "run")
    good = write_tiff(tmp_path / "in" / "good.tif", disk_image(disk_labels()))
    broken = tmp_path / "in" / "broken.tif"
    broken.write_bytes(good.read_bytes()[:300])
    requests = [
        {"id": "a", "images": [str(good)], "out": "out_a"},
        {"id": "b", "images": [str(broken)], "out": "out_b"},
        "not json",
        {"id": "c", "images": [str(good)], "out": "out_a"},  # outputs exist and no force: refused
        {"id": "d", "images": [str(good)], "out": "out_d", "probabilities": True},
    ]
    events = _serve(run, [r if isinstance(r, str) else json.dumps(r) for r in requests], tmp_path)

    loads = [e for e in events if e.get("kind") == "model_loaded"]
    assert len(loads) == 1, loads
    done = [(e["request"], e["code"]) for e in events if e["event"] == "done"]
    assert done == [("a", 0), ("b", 1), (None, 2), ("c", 2), ("d", 0)]
    assert all(e["loads"] == 1 for e in events if e["event"] == "done")
    skipped = [e for e in events if e["event"] == "warning" and e.get("request") == "b"]
    assert skipped and "broken.tif" in skipped[0]["file"]
    refused = [e for e in events if e["event"] == "error" and e.get("request") == "c"]
    assert refused and "already exist" in refused[0]["what"] and refused[0]["fix"]
    # the good image after the broken one is predicted like the first
    first = tifffile.imread(tmp_path / "out_a" / "good_labels.tif")
    assert first.max() == len(DISKS)
    assert (tifffile.imread(tmp_path / "out_d" / "good_labels.tif") == first).all()
    assert (tmp_path / "out_d" / "good_prob.tif").exists() and not (tmp_path / "out_a" / "good_prob.tif").exists()


def test_request_lines_are_checked_with_the_key_named():
    import pytest

    from builder.errors import CellwrightError

    with pytest.raises(CellwrightError, match="Unknown key.*imgs"):
        parse_request(json.dumps({"imgs": ["a.tif"], "out": "o"}))
    with pytest.raises(CellwrightError, match="`images`.*Received: images=\\[\\]"):
        parse_request(json.dumps({"images": [], "out": "o"}))
    with pytest.raises(CellwrightError, match="`out`"):
        parse_request(json.dumps({"images": ["a.tif"]}))
    assert parse_request('{"images": ["a.tif"], "out": "o", "force": true}')["force"] is True

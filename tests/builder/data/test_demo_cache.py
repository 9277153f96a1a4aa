"""Demo data generated on first use by several processes at once: one complete folder, no failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RECIPE = """\
name: demo-race
task: segmentation
data:
  layout: demo
  demo: nuclei
"""


def _start_check(recipe: Path, home: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "CELLWRIGHT_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "builder.cli.main", "check", "--json", str(recipe)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_checks_started_together_share_one_complete_demo_folder(tmp_path):
    import json

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    home = tmp_path / "home"
    procs = [_start_check(recipe, home) for _ in range(3)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    for rc, out, err in results:
        assert rc == 0, out + err
        counts = next(p["what"] for p in json.loads(out)["problems"] if p["what"].startswith("Images per split"))
        numbers = [int(w.strip(",.")) for w in counts.split() if w.strip(",.").isdigit()]
        assert sum(numbers) == 24, counts
    folder = home / "demo" / "demo-nuclei"
    assert len(list((folder / "images").glob("*.tif"))) == 24
    assert len(list((folder / "masks").glob("*.tif"))) == 24
    assert sorted(p.name for p in folder.parent.iterdir() if not p.name.endswith(".lock")) == ["demo-nuclei"]


def test_half_written_folder_from_a_killed_run_is_generated_again(tmp_path):
    from builder.data.demo_cache import ensure_demo

    folder = tmp_path / "demo-nuclei"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "nuclei_000.tif").write_bytes(b"partial")
    ensure_demo("nuclei", folder)
    assert (folder / "README.txt").is_file()
    assert len(list((folder / "images").glob("*.tif"))) == 24
    assert (folder / "images" / "nuclei_000.tif").stat().st_size > 100

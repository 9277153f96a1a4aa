"""A process SIGKILLed while exporting leaves temporary files; the next start removes them (and only them)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from builder.export._files import scratch_dir
from builder.training.leftovers import clean_run_folder

REPO = Path(__file__).resolve().parents[3]

_KILLED_EXPORT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from builder.export._files import atomic_path, scratch_dir
    from builder.io_utils import atomic_write_with
    run = Path(sys.argv[1])
    with scratch_dir() as scratch, atomic_path(run / "exports" / "model.zip") as zipped:
        (scratch / "weights.bin").write_bytes(b"x" * 1000)
        zipped.write_bytes(b"PK half")
        def die(tmp):
            tmp.write_bytes(b"half a state")
            os.kill(os.getpid(), signal.SIGKILL)
        atomic_write_with(run / "state.json", die)
""")


def test_next_start_removes_what_a_killed_export_left(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "system-tmp"))
    (tmp_path / "system-tmp").mkdir()
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "state.json").write_text(json.dumps({"epoch": 1}))
    proc = subprocess.run([sys.executable, "-c", _KILLED_EXPORT, str(run)], capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path / "system-tmp")})
    assert proc.returncode == -9, proc.stderr
    scratch_left = list((tmp_path / "system-tmp").glob("cellwright-export-*"))
    export_left = [p for p in (run / "exports").iterdir() if p.name.startswith(".model.zip.")]
    state_left = list(run.glob(".state.json.*.tmp"))
    assert len(scratch_left) == len(export_left) == len(state_left) == 1
    assert json.loads((run / "state.json").read_text()) == {"epoch": 1}  # the real state is untouched

    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    with scratch_dir() as ours:  # the next export cleans dead exports' folders, not its own
        assert ours.is_dir() and not scratch_left[0].exists()
    assert set(clean_run_folder(run)) == {export_left[0], state_left[0]}
    assert sorted(p.name for p in run.rglob("*")) == ["checkpoints", "exports", "state.json"]


def test_linking_a_target_again_to_the_file_it_links_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Epochs that do not improve point best.keras again at the same candidate: nothing may be left behind."""
    from builder.io_utils import replace_with_link

    source, target = tmp_path / "best-epoch-0002.keras", tmp_path / "best.keras"
    source.write_bytes(b"weights")
    replace_with_link(source, target)
    replace_with_link(source, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-epoch-0002.keras", "best.keras"]
    assert target.read_bytes() == b"weights"

"""install.sh up to the point where it would install: finding Python, failures that name step, cause and fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "installer" / "install.sh"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="bash script")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("bash"), str(SCRIPT), *args], capture_output=True, text=True, timeout=120,
                          env=env or {**os.environ, "PYTHONPATH": ""}, check=False)


def test_shellcheck_finds_nothing():
    if shutil.which("shellcheck") is None:
        if os.environ.get("CELLWRIGHT_REQUIRE_TOOLS"):  # CI installs it: a missing tool must fail there
            pytest.fail("shellcheck is not installed (Debian: shellcheck)")
        pytest.skip("shellcheck is not installed")
    subprocess.run(["shellcheck", str(SCRIPT), str(ROOT / "installer" / "quickstart.sh")], check=True)


def test_no_python_says_what_to_install(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "sed", "head", "uname"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    done = _run(env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert done.returncode == 1
    assert "no Python 3.10-3.12 was found" in done.stderr and "python3.11-venv" in done.stderr


def test_an_unsuitable_python_option_is_refused(tmp_path):
    done = _run("--python", str(tmp_path / "python9"))
    assert done.returncode == 1 and "given with --python" in done.stderr and "Fix:" in done.stderr


def test_from_a_folder_that_is_not_an_offline_folder(tmp_path):
    done = _run("--from", str(tmp_path), "--prefix", str(tmp_path / "p"), "--python", sys.executable)
    assert done.returncode == 1
    assert "FAILED at step 1/8 'Checking this computer'" in done.stderr
    assert "it was not made by --download-only" in done.stderr and "Fix:" in done.stderr
    assert not (tmp_path / "p").exists()


def test_from_a_folder_for_another_system(tmp_path):
    (tmp_path / "cellwright-offline.json").write_text(json.dumps(
        {"target": "windows-amd64", "python": "3.12", "tensorflow": "tensorflow-cpu", "wheel": "c.whl",
         "weights": [], "created": "now"}))
    done = _run("--from", str(tmp_path), "--prefix", str(tmp_path / "p"), "--python", sys.executable)
    assert done.returncode == 1 and "does not fit this computer: it holds files for windows-amd64" in done.stderr
    assert "--download-only DIR --target" in done.stderr


def test_uninstall_where_nothing_was_installed(tmp_path):
    done = _run("--uninstall", "--prefix", str(tmp_path), "--python", sys.executable)
    assert done.returncode == 1 and "no Cellwright installation" in done.stderr and list(tmp_path.iterdir()) == []


def test_a_prefix_inside_the_source_folder_is_refused(tmp_path):
    done = _run("--prefix", str(ROOT / "runs" / "install-here"), "--python", sys.executable)
    assert done.returncode == 1 and "is inside the source folder" in done.stderr and "Leave --prefix out" in done.stderr
    assert not (ROOT / "runs" / "install-here").exists()

"""The whole installer on the CPU path, as a user meets it: collect an offline folder (needs the package index),
install from it with the network cut off, run doctor, the demo and the app from the installed wheel, upgrade,
uninstall, and check that nothing else in the prefix or the home folder was touched.

It downloads about 0.6 GB and installs about 2.5 GB, so it runs only when ``CELLWRIGHT_TEST_INSTALL=1`` (CI runs it
once, as its own step in ``.ci/run``). ``CELLWRIGHT_TEST_WHEELHOUSE=DIR`` reuses a folder made earlier with
``install.sh --download-only DIR`` instead of downloading again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "installer" / "install.sh"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.environ.get("CELLWRIGHT_TEST_INSTALL") != "1",
                                                   reason="set CELLWRIGHT_TEST_INSTALL=1 (downloads 0.6 GB)")]


def _files(root: Path, skip: tuple[str, ...] = ()) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not str(p.relative_to(root)).startswith(skip)}


def _no_network_prefix() -> list[str]:
    """``unshare -n`` (no network at all) where it works, else nothing (pip then runs with --no-index only)."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-n"]
    return []


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "CELLWRIGHT_", "XDG_"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"), QT_QPA_PLATFORM="offscreen",
               # no package index and no configured extra folders of wheels: only the offline folder counts
               PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", https_proxy="http://127.0.0.1:9",
               http_proxy="http://127.0.0.1:9")
    return env


def _install(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([*_no_network_prefix(), "bash", str(SCRIPT), *args, "--python", sys.executable],
                          capture_output=True, text=True, env=env, timeout=1800, check=False)
    return done, time.monotonic() - started


def _du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e9


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    given = os.environ.get("CELLWRIGHT_TEST_WHEELHOUSE")
    folder = Path(given) if given else tmp_path_factory.mktemp("offline") / "cellwright-offline"
    if given and (folder / "cellwright-offline.json").is_file():
        return folder
    started = time.monotonic()
    done = subprocess.run(["bash", str(SCRIPT), "--download-only", str(folder), "--python", sys.executable],
                          capture_output=True, text=True, timeout=1800, check=False,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"\n[measure] download-only: {time.monotonic() - started:.0f} s, {_du(folder):.2f} GB, "
          f"{len(list(folder.glob('*.whl')))} wheels")
    return folder


def test_offline_install_demo_app_upgrade_uninstall(wheelhouse, tmp_path):
    home, prefix = tmp_path / "home", tmp_path / "prefix"
    (home / "mine").mkdir(parents=True)
    (home / "mine" / "recipe.yaml").write_text("cellwright: 1\n")
    (home / ".local" / "share" / "applications").mkdir(parents=True)
    (home / ".local" / "share" / "applications" / "other.desktop").write_text("[Desktop Entry]\n")
    env = _env(home)
    home_at_start = _files(home)

    done, seconds = _install(["--from", str(wheelhouse), "--prefix", str(prefix)], env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    print(f"[measure] offline install (CPU): {seconds:.0f} s, environment {_du(prefix / 'venv'):.2f} GB")
    out = done.stdout
    assert "[8/8] Adding Cellwright to the applications menu" in out and "TensorFlow    " in out
    if shutil.which("desktop-file-validate"):
        assert "desktop-file-validate: cellwright.desktop is valid" in out
    cellwright = prefix / "venv" / "bin" / "cellwright"
    assert out.strip().splitlines()[-1].strip() == f"{cellwright} gui"
    launcher = home / ".local" / "share" / "applications" / "cellwright.desktop"
    assert f"Exec={cellwright} gui %f" in launcher.read_text()

    # the installed wheel, not this source tree, is what runs
    where = subprocess.run([prefix / "venv" / "bin" / "python", "-c", "import builder, gui; print(builder.__file__)"],
                           capture_output=True, text=True, env=env, check=True, cwd=tmp_path).stdout
    assert where.startswith(str(prefix / "venv"))
    doctor = json.loads(subprocess.run([cellwright, "doctor", "--json"], capture_output=True, text=True, env=env,
                                       check=False, cwd=tmp_path).stdout)
    assert doctor["tensorflow_package"] == "tensorflow-cpu" and doctor["tensorflow"]
    demo = subprocess.run([cellwright, "demo", "--tiny", "--no-open"], capture_output=True, text=True, env=env,
                          check=False, cwd=tmp_path, timeout=900)
    assert demo.returncode == 0, demo.stderr[-3000:]
    report = Path(demo.stdout.split("Report: ")[1].splitlines()[0])
    assert report.is_file() and report.is_relative_to(home / ".cellwright" / "demo-runs")
    app = ("import sys; from PySide6.QtCore import QTimer; from PySide6.QtWidgets import QApplication; "
           "a = QApplication(['cellwright']); QTimer.singleShot(1500, a.quit); import gui.app; gui.app.main([]); "
           "w = [x for x in a.topLevelWidgets() if type(x).__name__ == 'MainWindow'][0]; "
           "print('page', w.stack.currentIndex(), type(w.stack.currentWidget()).__name__)")
    opened = subprocess.run([prefix / "venv" / "bin" / "python", "-c", app], capture_output=True, text=True,
                            env={**env, "CELLWRIGHT_SETTINGS_FILE": str(tmp_path / "settings.ini")}, check=False,
                            cwd=tmp_path, timeout=300)
    assert "page 0 StartPage" in opened.stdout, opened.stderr[-3000:]

    # the user's own things, next to and inside the prefix
    (prefix / "my-runs").mkdir()
    (prefix / "my-runs" / "note.txt").write_text("mine")
    home_before = _files(home)

    done, seconds = _install(["--from", str(wheelhouse), "--prefix", str(prefix)], env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    print(f"[measure] re-run (upgrade in place): {seconds:.0f} s")
    assert "upgrading the installation there" in done.stdout and "keeping the environment" in done.stdout
    assert _files(home) == home_before and report.is_file() and (prefix / "my-runs" / "note.txt").is_file()

    done = subprocess.run(["bash", str(SCRIPT), "--uninstall", "--prefix", str(prefix), "--python", sys.executable],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert _files(prefix) == {"my-runs", "my-runs/note.txt"}
    assert _files(home) == home_before - {".local/share/applications/cellwright.desktop"}
    assert (home / "mine" / "recipe.yaml").is_file() and report.is_file()
    # Left in the home folder, by design: the demo's data and runs (~/.cellwright), Keras' settings and weights
    # cache (~/.keras), matplotlib's and pip's caches (~/.cache, ~/.config), and where rustup is on PATH its
    # settings (~/.rustup: pip runs 'rustc --version' for its user agent); nothing else.
    left = {f for f in _files(home) - home_at_start if not f.startswith((".cellwright", ".keras", ".cache", ".config",
                                                                         ".rustup"))}
    assert left == set()

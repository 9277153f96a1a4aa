"""Launchers other than the Linux desktop entry (tested there through gui/launcher.py), and the start line."""

from __future__ import annotations

import os
import plistlib
from pathlib import Path

from installer import shortcuts
from installer.install import default_prefix
from installer.manifest import launcher_is_ours


def test_macos_app_bundle_starts_the_installed_app(tmp_path):
    venv = tmp_path / "prefix" / "venv"
    app = shortcuts.macos_app(venv, tmp_path / "home")
    assert app == tmp_path / "home" / "Applications" / "Cellwright.app"
    info = plistlib.loads((app / "Contents" / "Info.plist").read_bytes())
    assert info["CFBundleExecutable"] == "Cellwright" and info["CFBundlePackageType"] == "APPL"
    script = app / "Contents" / "MacOS" / "Cellwright"
    assert f"exec '{venv}/bin/cellwright' gui" in script.read_text() and os.access(script, os.X_OK)
    assert launcher_is_ours(app, tmp_path / "prefix") and not launcher_is_ours(app, tmp_path / "other")


def test_start_lines_and_default_prefixes():
    venv = Path("/home/ana/.local/share/cellwright/venv")
    assert shortcuts.start_line(venv, "Linux") == f"{venv}/bin/cellwright gui"
    assert shortcuts.start_line(venv, "Darwin", "demo") == f"{venv}/bin/cellwright demo"
    assert shortcuts.start_line(Path("C:/Users/ana/Cellwright/venv"), "Windows").startswith('& "C:')
    home = {"HOME": "/home/ana"}
    assert default_prefix("Linux", home) == Path("/home/ana/.local/share/cellwright")
    assert default_prefix("Linux", {**home, "XDG_DATA_HOME": "/data/ana"}) == Path("/data/ana/cellwright")
    assert default_prefix("Darwin", home) == Path("/home/ana/Library/Application Support/Cellwright")
    assert default_prefix("Windows", {"USERPROFILE": "C:/Users/ana", "LOCALAPPDATA": "C:/Users/ana/AppData/Local"}
                          ) == Path("C:/Users/ana/AppData/Local/Cellwright")

"""``cellwright gui --install-launcher``: a desktop entry written atomically, never over someone else's file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from builder.cli.main import main
from gui.launcher import ICON, desktop_entry, quote_exec_arg

ROOT = Path(__file__).resolve().parents[2]


def _entry(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line)


def test_install_update_and_refuse_to_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr("sys.argv", [str(tmp_path / "venv bin" / "cellwright"), "gui"])
    (tmp_path / "venv bin").mkdir()
    (tmp_path / "venv bin" / "cellwright").write_text("#!/bin/sh\n")
    assert main(["gui", "--install-launcher"]) == 0
    target = tmp_path / "data" / "applications" / "cellwright.desktop"
    entry = _entry(target)
    assert entry["Exec"] == f'"{tmp_path}/venv bin/cellwright" gui %f'  # absolute, quoted (it has a space)
    assert Path(entry["Icon"]).is_absolute() and Path(entry["Icon"]) == ICON and ICON.exists()
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert "Installed the launcher" in capsys.readouterr().out
    assert main(["gui", "--install-launcher"]) == 0
    assert "already installed" in capsys.readouterr().out

    # a different launcher is left alone unless --force
    target.write_text("[Desktop Entry]\nType=Application\nName=Mine\nExec=/opt/other/cellwright gui\n")
    assert main(["gui", "--install-launcher"]) == 2
    assert "--force" in capsys.readouterr().err
    assert _entry(target)["Name"] == "Mine"
    assert main(["gui", "--install-launcher", "--force", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "replaced" and result["path"] == str(target)
    assert _entry(target)["Name"] == "Cellwright"
    assert sorted(p.name for p in target.parent.iterdir()) == ["cellwright.desktop"]  # no temporary files left


def test_other_systems_get_instructions_instead(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    for platform, words in (("darwin", "Automator"), ("win32", "New > Shortcut")):
        monkeypatch.setattr("sys.platform", platform)
        assert main(["gui", "--install-launcher"]) == 0
        assert words in capsys.readouterr().out
    assert not (tmp_path / "applications").exists()


def test_exec_quoting_follows_the_desktop_entry_rules():
    assert quote_exec_arg("/usr/bin/cellwright") == "/usr/bin/cellwright"
    assert quote_exec_arg("/a b/c") == '"/a b/c"'
    assert quote_exec_arg("/a$b") == '"/a\\\\$b"'  # \$ inside quotes, then the backslash escaped again
    assert quote_exec_arg("/100%") == "/100%%"


def test_packaged_launcher_and_icon():
    text = (ROOT / "installer" / "cellwright.desktop").read_text(encoding="utf-8")
    body = "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))
    assert body == desktop_entry(["cellwright"], "cellwright")
    assert "Exec=cellwright gui %f" in body
    svg = ET.parse(ICON).getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 64 64"


def test_desktop_file_validate_accepts_the_entry_and_the_packaged_file(tmp_path):
    import os
    import shutil
    import subprocess

    import pytest

    validator = shutil.which("desktop-file-validate")
    if validator is None:
        if os.environ.get("CELLWRIGHT_REQUIRE_TOOLS"):  # CI installs it: a missing tool must fail there
            pytest.fail("desktop-file-validate is not installed (Debian: desktop-file-utils)")
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    written = tmp_path / "cellwright.desktop"
    written.write_text(desktop_entry(["/opt/cell wright/bin/cellwright"], str(ICON)), encoding="utf-8")
    for path in (written, ROOT / "installer" / "cellwright.desktop"):
        done = subprocess.run([validator, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr

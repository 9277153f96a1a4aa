"""Desktop launchers for the installed app: Linux desktop entry (via ``cellwright gui --install-launcher``), a small
macOS ``.app`` in ``~/Applications``, a Windows Start-menu shortcut. None needs administrator rights.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from installer.steps import Steps, clean_env

_PLIST = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>CFBundleName</key><string>Cellwright</string>
  <key>CFBundleDisplayName</key><string>Cellwright</string>
  <key>CFBundleIdentifier</key><string>org.cellwright.app</string>
  <key>CFBundleExecutable</key><string>Cellwright</string>
  <key>CFBundlePackageType</key><string>APPL</string>
  <key>CFBundleVersion</key><string>1</string>
</dict>
</plist>
"""


def start_command(venv: Path, system: str) -> list[str]:
    """The command that starts the app from ``venv``."""
    if system == "Windows":
        return [str(venv / "Scripts" / "cellwright.exe"), "gui"]
    return [str(venv / "bin" / "cellwright"), "gui"]


def start_line(venv: Path, system: str, command: str = "gui") -> str:
    """One line to paste into a terminal that runs ``cellwright COMMAND`` from ``venv``."""
    exe = start_command(venv, system)[0]
    if system == "Windows":
        return f'& "{exe}" {command}'
    return f"{exe if ' ' not in exe else repr(exe)} {command}"


def linux_launcher(venv: Path, steps: Steps) -> Path:
    """Write the desktop entry with the installed ``cellwright gui --install-launcher`` (gui/launcher.py)."""
    out = steps.run([venv / "bin" / "cellwright", "gui", "--install-launcher", "--force", "--json"],
                    "Check that $XDG_DATA_HOME (or ~/.local/share/applications) is writable.")
    path = Path(json.loads(out)["path"])
    steps.say(f"  wrote {path}")
    return path


def validate_launcher(path: Path, steps: Steps) -> None:
    """Check a Linux desktop entry with ``desktop-file-validate`` where it is installed."""
    validator = shutil.which("desktop-file-validate")
    if validator and path.suffix == ".desktop":
        steps.run([validator, path], "The launcher file is malformed: please report this as a bug.")
        steps.say(f"  desktop-file-validate: {path.name} is valid")


def macos_app(venv: Path, home: Path) -> Path:
    """A minimal ``~/Applications/Cellwright.app`` whose executable starts ``cellwright gui``."""
    app = home / "Applications" / "Cellwright.app"
    macos = app / "Contents" / "MacOS"
    macos.mkdir(parents=True, exist_ok=True)
    (app / "Contents" / "Info.plist").write_text(_PLIST, encoding="utf-8")
    script = macos / "Cellwright"
    script.write_text(f"#!/bin/sh\nexec '{venv / 'bin' / 'cellwright'}' gui \"$@\"\n", encoding="utf-8")
    script.chmod(0o755)
    return app


def windows_shortcut(venv: Path, steps: Steps) -> Path:
    """A Start-menu shortcut (``Cellwright.lnk``) that runs the app without a console window."""
    programs = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "Microsoft" / "Windows" / \
        "Start Menu" / "Programs"
    link = programs / "Cellwright.lnk"
    target = venv / "Scripts" / "pythonw.exe"
    script = (f"$s = (New-Object -ComObject WScript.Shell).CreateShortcut('{link}'); "
              f"$s.TargetPath = '{target}'; $s.Arguments = '-m builder.cli.main gui'; "
              f"$s.WorkingDirectory = '{Path.home()}'; $s.Description = 'Cellwright'; $s.Save()")
    programs.mkdir(parents=True, exist_ok=True)
    steps.run(["powershell", "-NoProfile", "-NonInteractive", "-Command", script],
              "Create the shortcut by hand: right-click the desktop, New > Shortcut, and enter the start line below.",
              env=clean_env())
    return link


def make_launcher(system: str, venv: Path, steps: Steps) -> Path | None:
    """The launcher for ``system``; ``None`` (with a message) where none can be made."""
    if system == "Linux":
        return linux_launcher(venv, steps)
    if system == "Darwin":
        app = macos_app(venv, Path.home())
        steps.say(f"  made {app} (open it from Finder > Applications)")
        return app
    if system == "Windows":
        link = windows_shortcut(venv, steps)
        steps.say(f"  made the Start-menu entry {link}")
        return link
    steps.say(f"  no launcher for {system}: start the app with the line below")
    return None

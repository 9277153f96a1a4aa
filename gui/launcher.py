"""The desktop launcher: a freedesktop ``.desktop`` entry that runs ``cellwright gui`` (no Qt needed here).

``cellwright gui --install-launcher`` calls :func:`install_launcher`, which writes the entry into
``$XDG_DATA_HOME/applications`` (default ``~/.local/share/applications``) so the app shows up in the
desktop's application menu. ``installer/cellwright.desktop`` is the same entry for packagers.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from builder.errors import CellwrightError

FILE_NAME = "cellwright.desktop"
ICON = Path(__file__).with_name("cellwright.svg")
_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')


def quote_exec_arg(arg: str) -> str:
    """Quote one argument of a desktop entry's ``Exec`` key (Desktop Entry Specification, "The Exec key")."""
    arg = arg.replace("%", "%%")
    if any(char in _RESERVED for char in arg):
        inner = "".join("\\" + char if char in '"`$\\' else char for char in arg)
        arg = f'"{inner}"'
    return arg.replace("\\", "\\\\")  # the string-value escape applies on top of the quoting rule


def desktop_entry(command: list[str], icon: str) -> str:
    """Text of the launcher that runs ``command`` plus ``gui`` and shows ``icon`` (a path or an icon name)."""
    exec_line = " ".join(quote_exec_arg(part) for part in [*command, "gui"]) + " %f"
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # 1.5 adds nothing used here and older desktop-file-validate rejects it
        "Name=Cellwright",
        "GenericName=Deep-learning models for cell images",
        "Comment=Build, train, evaluate and share models for cell images without writing code",
        f"Exec={exec_line}",
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Science;Biology;",  # one main category, so the menu lists it once
        "Keywords=microscopy;segmentation;deep learning;cells;",
        "MimeType=application/x-yaml;",
        "StartupNotify=true",
        "",
    ])


def cellwright_command() -> list[str]:
    """How to start the ``cellwright`` now running: the absolute path of its executable when there is one."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name.startswith("cellwright") and argv0.exists():
        return [str(argv0.absolute())]
    found = shutil.which("cellwright")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "builder.cli.main"]


def applications_dir(env: dict[str, str] | None = None) -> Path:
    """Where per-user launchers go: ``$XDG_DATA_HOME/applications`` or ``~/.local/share/applications``."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "applications"


def other_platform_advice(platform: str, command: list[str]) -> str | None:
    """What to do instead on a system without freedesktop launchers (``None`` on Linux and other Unixes)."""
    line = " ".join(f'"{part}"' if " " in part else part for part in [*command, "gui"])
    if platform == "darwin":
        return ("Desktop launchers (.desktop files) are a Linux feature. On macOS, start the app from Terminal "
                f"with:\n  {line}\nor make a clickable app: open Automator, choose 'Application', add a 'Run Shell "
                f"Script' action containing the line above, and save it in your Applications folder.")
    if platform.startswith(("win", "cygwin", "msys")):
        return ("Desktop launchers (.desktop files) are a Linux feature. On Windows, right-click the desktop, "
                f"choose New > Shortcut and enter:\n  {line}\nas the location; name it Cellwright.")
    return None


@dataclass(frozen=True)
class LauncherResult:
    """What :func:`install_launcher` did: ``status`` is "written", "replaced" or "unchanged"."""

    path: Path
    status: str


def install_launcher(*, force: bool = False, command: list[str] | None = None, env: dict[str, str] | None = None
                     ) -> LauncherResult:
    """Write the launcher for the current user, atomically.

    Raises
    ------
    CellwrightError
        When a different ``cellwright.desktop`` is already there and ``force`` is false, or it cannot be written.
    """
    target = applications_dir(env) / FILE_NAME
    text = desktop_entry(command or cellwright_command(), str(ICON.absolute()))
    status = "written"
    if target.exists():
        try:
            old = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            old = None
        if old == text:
            return LauncherResult(target, "unchanged")
        if not force:
            raise CellwrightError(
                str(target), "A different Cellwright launcher is already installed there (it may start another "
                "copy of Cellwright, or have been edited by hand); it was left as it is.",
                "Run 'cellwright gui --install-launcher --force' to replace it with one for this installation.")
        status = "replaced"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".cellwright-", suffix=".desktop.tmp", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    except OSError as error:
        raise CellwrightError(
            str(target), f"The launcher could not be written: {error.strerror or error}.",
            "Check that the folder is writable, or set XDG_DATA_HOME to a writable folder.") from error
    return LauncherResult(target, status)

"""The install record (``cellwright-install.json`` in the prefix): what the installer created, so that
``--uninstall`` removes exactly that and nothing else (runs, recipes, weights and any other file stay).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

RECORD_NAME = "cellwright-install.json"
#: What the installer puts inside the prefix (relative names); anything else there belongs to the user.
OWNED_IN_PREFIX = ("venv", "logs", "requirements.txt", RECORD_NAME)


@dataclass
class InstallRecord:
    """What one prefix holds. ``created_prefix``: the installer made the folder itself (removed when empty)."""

    prefix: str
    created_prefix: bool = False
    launchers: list[str] = field(default_factory=list)
    python: str = ""
    tensorflow: str = ""
    source: str = ""
    installed: str = ""
    history: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return Path(self.prefix) / RECORD_NAME

    def save(self) -> Path:
        """Write the record atomically."""
        temp = self.path.with_suffix(".json.tmp")
        temp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        temp.replace(self.path)
        return self.path

    def stamp(self, what: str) -> None:
        """Note an install or upgrade in the history."""
        self.installed = time.strftime("%Y-%m-%d %H:%M:%S")
        self.history.append(f"{self.installed} {what}")


def load_record(prefix: Path) -> InstallRecord | None:
    """The record in ``prefix``, or ``None`` when the installer has not installed there."""
    path = prefix / RECORD_NAME
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    known = set(InstallRecord.__dataclass_fields__)
    return InstallRecord(**{k: v for k, v in data.items() if k in known})


def launcher_is_ours(path: Path, prefix: Path) -> bool:
    """Whether a launcher file still starts this prefix's Cellwright (one replaced by hand is left alone)."""
    try:
        if path.is_dir():  # a macOS .app bundle
            target = path / "Contents" / "MacOS" / "Cellwright"
            return str(prefix) in target.read_text(encoding="utf-8")
        return str(prefix) in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def uninstall(prefix: Path, say=print) -> list[Path]:
    """Remove what the record in ``prefix`` lists; return the removed paths. Everything else is left as it is."""
    record = load_record(prefix)
    if record is None:
        raise FileNotFoundError(prefix / RECORD_NAME)
    removed: list[Path] = []
    for launcher in map(Path, record.launchers):
        if not (launcher.exists() or launcher.is_symlink()):
            continue
        if not launcher_is_ours(launcher, prefix):
            say(f"  kept {launcher} (it no longer starts this installation)")
            continue
        if launcher.is_dir():
            shutil.rmtree(launcher)
        else:
            launcher.unlink()
        removed.append(launcher)
    for name in OWNED_IN_PREFIX:
        target = prefix / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        else:
            continue
        removed.append(target)
    if record.created_prefix and prefix.is_dir() and not any(prefix.iterdir()):
        prefix.rmdir()
        removed.append(prefix)
    for path in removed:
        say(f"  removed {path}")
    return removed

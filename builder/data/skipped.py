"""Entries of an image folder that Cellwright cannot use, so they are named instead of skipped silently.

Two kinds are found: links whose target is missing (a moved or unmounted share) and files in microscope
formats that Cellwright does not read yet (Zeiss ``.czi``, Nikon ``.nd2``, Leica ``.lif``, ...). Both would
otherwise be left out of a data set or a prediction batch without a word.
"""

from __future__ import annotations

from pathlib import Path

from builder.errors import Problem

#: Microscope file endings Cellwright does not read (yet), with the format's name (lower-case endings).
MICROSCOPE_FORMATS = {
    ".czi": "Zeiss CZI", ".nd2": "Nikon ND2", ".lif": "Leica LIF", ".lof": "Leica LOF", ".lei": "Leica LEI",
    ".oib": "Olympus OIB", ".oif": "Olympus OIF", ".oir": "Olympus OIR", ".vsi": "Olympus VSI",
    ".ims": "Imaris", ".dv": "DeltaVision", ".r3d": "DeltaVision", ".lsm": "Zeiss LSM", ".zvi": "Zeiss ZVI",
    ".svs": "Aperio SVS", ".scn": "Leica SCN", ".ndpi": "Hamamatsu NDPI", ".mrxs": "3DHISTECH MRXS",
    ".sld": "SlideBook", ".stk": "MetaMorph STK", ".ics": "ICS", ".ids": "ICS",
}
#: What to do with files in :data:`MICROSCOPE_FORMATS` that no reader here takes.
FORMATS_FIX = ("Convert them to OME-TIFF (Fiji: File > Import > Bio-Formats, then File > Save As > OME-TIFF, or "
               "bioformats2raw for large files).")


def formats_fix(path: Path | None = None) -> str:
    """The fix for unreadable microscope files, saying whether the extra 'cellwright[formats]' is installed."""
    from builder.data.bioio_reader import PLUGINS, extra_status

    status = extra_status()
    if path is not None and path.suffix.lower() not in PLUGINS and "is installed" in status:
        status += " It does not read this format."
    return f"{FORMATS_FIX} {status}"


def is_dangling_link(path: Path) -> bool:
    """True if ``path`` is a symbolic link whose target does not exist."""
    return path.is_symlink() and not path.exists()


def microscope_format(path: Path) -> str | None:
    """The format name if ``path`` has a microscope ending Cellwright cannot read (here, now), else None."""
    from builder.data.bioio_reader import readable_suffixes

    suffix = path.suffix.lower()
    return None if suffix in readable_suffixes() else MICROSCOPE_FORMATS.get(suffix)


def _names(paths: list[Path], limit: int = 5) -> str:
    shown = ", ".join(p.name for p in paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def folder_findings(folder: Path, *, link_severity: str = "error") -> list[Problem]:
    """Problems for the dangling links and unreadable microscope files directly inside ``folder``.

    Parameters
    ----------
    folder : Path
        An image (or mask / target / class) folder; a missing folder gives no findings.
    link_severity : str
        Severity of a dangling link (``"warning"`` when the recipe skips unreadable files).

    Returns
    -------
    list of Problem
        One problem per dangling link, and one per folder for the microscope files (grouped by format).
    """
    if not folder.is_dir():
        return []
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    out = [Problem(str(p), f"is a link to {_link_target(p)}, which does not exist; the image is left out.",
                   "Restore the file it points to (is a network drive unmounted?), or delete the link.",
                   link_severity) for p in entries if is_dangling_link(p)]
    formats: dict[str, list[Path]] = {}
    for p in entries:
        name = microscope_format(p)
        if name and not is_dangling_link(p):
            formats.setdefault(name, []).append(p)
    for name, paths in sorted(formats.items()):
        out.append(Problem(str(folder), f"{len(paths)} {name} file(s) that Cellwright cannot read yet are left out: "
                           f"{_names(paths)}.", formats_fix(paths[0]), "warning"))
    return out


def _link_target(path: Path) -> str:
    try:
        return str(path.readlink())
    except OSError:
        return "a missing file"

"""The pip requirements for one install: Cellwright's own, read from its wheel, with the chosen TensorFlow build.

Cellwright's wheel names ``tensorflow-cpu`` (``tensorflow`` on macOS) so that ``pip install cellwright`` works on its
own. The installer instead installs the dependencies from a requirements file in which the TensorFlow line is the
build :func:`detect.choose_tensorflow` picked (CPU, CUDA or macOS), then the wheel itself with ``--no-deps``; this keeps
two TensorFlow distributions from overwriting each other's files.
"""

from __future__ import annotations

import re
import zipfile
from email.parser import HeaderParser
from pathlib import Path

#: Distributions that provide the ``tensorflow`` module; only the chosen one is installed.
TENSORFLOW_NAMES = {"tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def wheel_requirements(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        if len(names) != 1:
            raise ValueError(f"{wheel} is not a wheel: it has {len(names)} .dist-info/METADATA files, expected 1.")
        text = archive.read(names[0]).decode("utf-8")
    return HeaderParser().parsestr(text).get_all("Requires-Dist") or []


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def split_requirement(line: str) -> tuple[str, str, str, str]:
    """``'tensorflow-cpu>=2.16; sys_platform != "darwin"'`` -> name, extras, version spec, marker."""
    body, _, marker = line.partition(";")
    match = _NAME.match(body)
    if not match:
        raise ValueError(f"Invalid requirement received: {line!r}")
    name, extras, spec = match.groups()
    spec = spec.strip().strip("()").strip()
    return name, extras or "", spec, marker.strip()


def install_requirements(requires: list[str], tensorflow: str, extra_spec: str = "") -> list[str]:
    """Requirement lines to install: ``requires`` without extras-only and TensorFlow lines, plus ``tensorflow``.

    The TensorFlow line keeps the version range Cellwright asks for (taken from its ``tensorflow-cpu`` or
    ``tensorflow`` requirement) with the chosen distribution name, e.g. ``tensorflow[and-cuda]>=2.16``.
    """
    lines: list[str] = []
    tf_spec = ""
    for line in requires:
        name, extras, spec, marker = split_requirement(line)
        if "extra ==" in marker.replace("extra==", "extra =="):
            continue
        if _normal(name) in TENSORFLOW_NAMES:
            tf_spec = tf_spec or spec
            continue
        lines.append(line.strip())
    spec = ",".join(part for part in (tf_spec, extra_spec.lstrip(",")) if part)
    lines.append(f"{tensorflow}{spec}")
    return lines

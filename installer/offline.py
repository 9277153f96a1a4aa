"""Offline installs: the target systems a wheel folder can be collected for, and the folder's description file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

OFFLINE_NAME = "cellwright-offline.json"
TARGETS = ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64", "windows-amd64")
_SYSTEM = {"linux": "Linux", "macos": "Darwin", "windows": "Windows"}


def host_target(system: str, machine: str) -> str:
    """The :data:`TARGETS` name of a system (``platform.system()``, ``platform.machine()``)."""
    machine = machine.lower()
    machine = {"amd64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(machine, machine)
    if system == "Darwin":
        return "macos-arm64" if machine in ("arm64", "aarch64") else "macos-x86_64"
    if system == "Windows":
        return "windows-amd64"
    return "linux-aarch64" if machine in ("arm64", "aarch64") else f"linux-{machine}"


def target_system(target: str) -> tuple[str, str]:
    """``"macos-arm64"`` -> ``("Darwin", "arm64")``: the facts detect.py sees on such a computer."""
    os_name, _, machine = target.partition("-")
    return _SYSTEM[os_name], {"amd64": "AMD64"}.get(machine, machine)


def platform_tags(target: str) -> list[str]:
    """The wheel platform tags ``pip download --platform`` accepts for ``target`` (oldest to newest)."""
    if target.startswith("linux-"):
        arch = target.split("-", 1)[1]
        return [f"manylinux2014_{arch}"] + [f"manylinux_2_{minor}_{arch}" for minor in range(17, 40)]
    if target == "macos-arm64":
        return [f"macosx_{major}_0_{arch}" for major in range(11, 27) for arch in ("arm64", "universal2")]
    if target == "macos-x86_64":
        versions = [f"10_{minor}" for minor in range(9, 16)] + [f"{major}_0" for major in range(11, 27)]
        return [f"macosx_{v}_{arch}" for v in versions for arch in ("x86_64", "intel", "universal2")]
    if target == "windows-amd64":
        return ["win_amd64"]
    raise ValueError(f"Invalid value received for argument `target`. Expected one of {', '.join(TARGETS)}. "
                     f"Received: target={target}")


def download_command(pip: list[str], requirements: Path, dest: Path, target: str, python: str) -> list[str]:
    """``pip download`` of every wheel in ``requirements`` for ``target`` and Python ``python`` ("3.11")."""
    nodot = python.replace(".", "")
    cmd = [*pip, "download", "--dest", str(dest), "--only-binary=:all:", "--python-version", python,
           "--implementation", "cp", "--abi", f"cp{nodot}", "--abi", "abi3", "--abi", "none",
           "-r", str(requirements)]
    for tag in platform_tags(target):
        cmd += ["--platform", tag]
    return cmd


@dataclass
class OfflineFolder:
    """What ``--download-only`` collected (written as ``cellwright-offline.json`` in the folder)."""

    target: str
    python: str
    tensorflow: str
    wheel: str
    weights: list[str]
    created: str

    def save(self, folder: Path) -> Path:
        path = folder / OFFLINE_NAME
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path


def load_offline(folder: Path) -> OfflineFolder | None:
    """The description of an offline folder, or ``None`` when ``folder`` has none."""
    path = folder / OFFLINE_NAME
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return OfflineFolder(**{k: data.get(k) for k in OfflineFolder.__dataclass_fields__})


def mismatch(folder: OfflineFolder, host: str, python: tuple[int, int]) -> str | None:
    """Why ``folder`` cannot be installed on this computer, or ``None`` when it can."""
    here = f"{python[0]}.{python[1]}"
    problems = []
    if folder.target != host:
        problems.append(f"it holds files for {folder.target}, this computer is {host}")
    if folder.python != here:
        problems.append(f"it holds files for Python {folder.python}, this installer runs Python {here}")
    return "; ".join(problems) or None

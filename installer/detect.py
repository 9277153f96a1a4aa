"""What this computer is and which TensorFlow build suits it (standard library only, Python 3.10+).

The install scripts call this before Cellwright exists, so it must run on any suitable Python. Every decision is a
plain function of :class:`SystemFacts`, which tests build by hand (no GPU, old driver, new driver, Apple silicon,
Windows) instead of asking the real system.

Run ``python installer/detect.py`` to see what the installer would choose here (``--json`` for scripts).
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Python versions the installer accepts (TensorFlow wheels exist for all of them on every supported system).
PYTHON_MIN, PYTHON_MAX = (3, 10), (3, 12)

#: TensorFlow's CUDA build (``tensorflow[and-cuda]``, 2.16 and later) bundles CUDA 12 libraries as pip wheels; they
#: need an NVIDIA driver of at least this version on Linux (CUDA 12 minor-version compatibility).
CUDA_MAJOR = 12
CUDA_MIN_DRIVER = (525, 60, 13)

#: nvidia-smi query that prints one ``name, driver_version`` line per GPU.
NVIDIA_SMI_QUERY = ["--query-gpu=name,driver_version", "--format=csv,noheader"]


@dataclass(frozen=True)
class SystemFacts:
    """The answers the installer needs from the system, gathered by :func:`gather_facts` (or faked by tests).

    ``nvidia_smi`` is the output of ``nvidia-smi`` with :data:`NVIDIA_SMI_QUERY`, ``None`` when the program is not
    installed, or ``"failed: <message>"`` when it is there but could not talk to a driver.
    """

    system: str  # platform.system(): "Linux", "Darwin", "Windows"
    machine: str  # platform.machine(): "x86_64", "arm64", "AMD64", "aarch64"
    python: tuple[int, int]
    nvidia_smi: str | None = None
    wsl: bool = False


@dataclass(frozen=True)
class Gpu:
    """One NVIDIA GPU as ``nvidia-smi`` names it."""

    name: str
    driver: str


@dataclass
class TensorflowChoice:
    """Which TensorFlow distribution to install and why (``notes`` are printed to the user as they are)."""

    package: str  # a pip requirement name with extras, e.g. "tensorflow[and-cuda]"
    flavor: str  # "cuda", "cpu" or "macos"
    gpus: list[Gpu] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra_spec: str = ""  # a further version limit for this system, e.g. ",<2.17" on Intel Macs


def python_ok(version: tuple[int, int]) -> bool:
    """Whether Cellwright's installer accepts this Python ``(major, minor)``."""
    return PYTHON_MIN <= tuple(version[:2]) <= PYTHON_MAX


def python_advice(system: str, found: tuple[int, int] | None = None) -> str:
    """Exactly what to install when no Python 3.10-3.12 was found (``found``: the unsuitable one, if any)."""
    wanted = f"{PYTHON_MIN[0]}.{PYTHON_MIN[1]} to {PYTHON_MAX[0]}.{PYTHON_MAX[1]}"
    head = (f"Cellwright needs Python {wanted}; this computer has Python {found[0]}.{found[1]}."
            if found else f"Cellwright needs Python {wanted}, and none was found on this computer.")
    if system == "Darwin":
        fix = ("Install Python 3.12 from https://www.python.org/downloads/macos/ (the 'macOS 64-bit universal2 "
               "installer', no administrator rights needed for your own account), then run this installer again.")
    elif system == "Windows":
        fix = ("Install Python 3.12 for your account only (no administrator rights): run "
               "'winget install --scope user Python.Python.3.12', or download the 'Windows installer (64-bit)' from "
               "https://www.python.org/downloads/windows/ and leave 'Install for all users' unticked. Then open a new "
               "PowerShell window and run this installer again.")
    else:
        fix = ("Ask your administrator to install 'python3.11' and 'python3.11-venv' (Debian/Ubuntu: sudo apt "
               "install python3.11 python3.11-venv; Fedora: sudo dnf install python3.11), or install Python 3.12 "
               "into your home folder without administrator rights with Miniforge "
               "(https://conda-forge.org/download/). Then run this installer again, or point it at that Python "
               "with --python /path/to/python3.")
    return f"{head}\n{fix}"


def parse_nvidia_smi(text: str | None) -> list[Gpu]:
    """The GPUs in ``nvidia-smi --query-gpu=name,driver_version --format=csv,noheader`` output."""
    gpus = []
    if not text or text.startswith("failed:"):
        return gpus
    for line in text.splitlines():
        name, sep, driver = line.rpartition(",")
        if sep and re.fullmatch(r"\d+(\.\d+)*", driver.strip()):
            gpus.append(Gpu(name.strip(), driver.strip()))
    return gpus


def driver_tuple(driver: str) -> tuple[int, ...]:
    """``"535.104.05"`` -> ``(535, 104, 5)``."""
    return tuple(int(part) for part in driver.split("."))


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(f"{part:02d}" if i == 2 else str(part) for i, part in enumerate(version))


def choose_tensorflow(facts: SystemFacts, gpu: str = "auto") -> TensorflowChoice:
    """The TensorFlow build for ``facts``; ``gpu`` is the user's ``--gpu`` choice: "auto", "cuda" or "cpu"."""
    if gpu not in ("auto", "cuda", "cpu"):
        raise ValueError(f"Invalid value received for argument `gpu`. Expected auto, cuda or cpu. Received: gpu={gpu}")
    if facts.system == "Darwin":
        note = ("macOS: installing 'tensorflow' (it uses the CPU; on Apple silicon the Metal GPU plug-in is not "
                "installed because it is not reliable with Keras 3).")
        if facts.machine == "x86_64":
            note += (" This is an Intel Mac: TensorFlow stopped publishing Intel-Mac builds after 2.16, so 2.16 is "
                     "installed.")
            return TensorflowChoice("tensorflow", "macos", notes=[note], extra_spec=",<2.17")
        return TensorflowChoice("tensorflow", "macos", notes=[note])
    gpus = parse_nvidia_smi(facts.nvidia_smi)
    cpu_package = "tensorflow" if facts.machine.lower() in ("aarch64", "arm64") else "tensorflow-cpu"
    if gpu == "cpu":
        return TensorflowChoice(cpu_package, "cpu", gpus, ["--gpu cpu: installing the CPU build as asked."])
    if facts.system == "Windows":
        notes = []
        if gpus or gpu == "cuda":
            notes.append("Windows: TensorFlow has no GPU build for Windows (since 2.11), so the CPU build is "
                         "installed. To train on your NVIDIA GPU, install Cellwright inside WSL2 (Ubuntu) with "
                         "installer/install.sh; WSL2 uses the Windows NVIDIA driver.")
        return TensorflowChoice(cpu_package, "cpu", gpus, notes)
    if not gpus:
        if facts.nvidia_smi and facts.nvidia_smi.startswith("failed:"):
            reason = (f"nvidia-smi is installed but could not reach an NVIDIA driver ({facts.nvidia_smi[7:].strip()}). "
                      "The CPU build is installed. Fix the driver (reboot after a driver update, or reinstall it), "
                      "then run this installer again to switch to the GPU build.")
        elif gpu == "cuda":
            reason = ("--gpu cuda was given but no NVIDIA GPU was found (nvidia-smi is missing). The CPU build is "
                      "installed instead; install the NVIDIA driver first, then run this installer again.")
        else:
            reason = "No NVIDIA GPU found (no nvidia-smi): installing the CPU build."
        return TensorflowChoice(cpu_package, "cpu", gpus, [reason])
    if facts.machine.lower() not in ("x86_64", "amd64"):
        return TensorflowChoice(cpu_package, "cpu", gpus, [
            f"NVIDIA GPU found, but TensorFlow's CUDA build exists only for x86_64 Linux (this is {facts.machine}); "
            "installing the CPU build."])
    names = ", ".join(g.name for g in gpus)
    oldest = min(gpus, key=lambda g: driver_tuple(g.driver))
    if driver_tuple(oldest.driver) < CUDA_MIN_DRIVER:
        return TensorflowChoice(cpu_package, "cpu", gpus, [
            f"NVIDIA GPU found ({names}) but its driver {oldest.driver} is too old: TensorFlow's CUDA {CUDA_MAJOR} "
            f"build needs driver {_dotted(CUDA_MIN_DRIVER)} or newer. Installing the CPU build now. To use the GPU, "
            f"update the NVIDIA driver (ask your administrator for driver 535 or newer), then run this installer "
            f"again."])
    return TensorflowChoice("tensorflow[and-cuda]", "cuda", gpus, [
        f"NVIDIA GPU found ({names}), driver {oldest.driver} (CUDA {CUDA_MAJOR} needs {_dotted(CUDA_MIN_DRIVER)} or "
        "newer): installing TensorFlow's CUDA build (about 3 GB more than the CPU build)."])


def _nvidia_smi_path() -> str | None:
    found = shutil.which("nvidia-smi")
    if found:
        return found
    for candidate in ("/usr/lib/wsl/lib/nvidia-smi", r"C:\Windows\System32\nvidia-smi.exe"):
        if Path(candidate).is_file():
            return candidate
    return None


def read_nvidia_smi(timeout: float = 20.0) -> str | None:
    """Ask the real ``nvidia-smi`` (``None`` when it is not installed)."""
    exe = _nvidia_smi_path()
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, *NVIDIA_SMI_QUERY], capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"failed: {error}"
    if done.returncode != 0:
        message = (done.stdout + done.stderr).strip().splitlines()
        return f"failed: {message[0] if message else f'exit code {done.returncode}'}"
    return done.stdout


def gather_facts() -> SystemFacts:
    """The real system's answers."""
    wsl = "microsoft" in platform.release().lower()
    return SystemFacts(platform.system(), platform.machine(), sys.version_info[:2], read_nvidia_smi(), wsl)


def main(argv: list[str] | None = None) -> int:
    """``python detect.py [--json] [--gpu auto|cuda|cpu]``: print the facts and the TensorFlow choice."""
    import argparse

    parser = argparse.ArgumentParser(prog="detect.py", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--gpu", choices=["auto", "cuda", "cpu"], default="auto")
    parser.add_argument("--python-advice", action="store_true",
                        help="print what to install when this Python is unsuitable, and exit 1 if it is")
    args = parser.parse_args(argv)
    facts = gather_facts()
    if args.python_advice:
        if python_ok(facts.python):
            return 0
        print(python_advice(facts.system, facts.python))
        return 1
    choice = choose_tensorflow(facts, args.gpu)
    if args.json:
        print(json.dumps({"facts": asdict(facts), "tensorflow": asdict(choice)}, indent=2))
    else:
        print(f"System: {facts.system} {facts.machine}, Python {facts.python[0]}.{facts.python[1]}")
        print(f"TensorFlow: {choice.package} ({choice.flavor})")
        for note in choice.notes:
            print(f"  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

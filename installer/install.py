"""Install, upgrade, uninstall Cellwright for the current user, or collect everything for an offline computer.

Run through ``installer/install.sh`` (Linux, macOS) or ``installer/install.ps1`` (Windows), which find a suitable
Python first. Standard library only: this runs before Cellwright and its dependencies exist.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installer import detect, offline, requirements, shortcuts
from installer.manifest import InstallRecord, load_record, uninstall
from installer.steps import InstallError, Steps, clean_env

SOURCE = Path(__file__).resolve().parent.parent
#: Free disk needed for an install (the CPU build takes about 2.5 GB, the CUDA build about 6 GB).
NEEDED_GB = {"cpu": 3.5, "macos": 3.5, "cuda": 7.0}
_SKIP_IN_COPY = shutil.ignore_patterns(".venv", ".git", "runs", "build", "dist", "*.egg-info", "__pycache__",
                                       ".pytest_cache", ".ruff_cache", ".hypothesis", "demo", "out")


def default_prefix(system: str | None = None, env: dict[str, str] | None = None) -> Path:
    """The per-user install folder: ``~/.local/share/cellwright`` (Linux, or ``$XDG_DATA_HOME/cellwright``),
    ``~/Library/Application Support/Cellwright`` (macOS), ``%LOCALAPPDATA%\\Cellwright`` (Windows)."""
    system = system or platform.system()
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if system == "Darwin":
        return home / "Library" / "Application Support" / "Cellwright"
    if system == "Windows":
        return Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "Cellwright"
    data = env.get("XDG_DATA_HOME", "")
    return (Path(data) if data and Path(data).is_absolute() else home / ".local" / "share") / "cellwright"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if platform.system() == "Windows" else "bin/python")


def venv_cellwright(venv: Path) -> Path:
    return venv / ("Scripts/cellwright.exe" if platform.system() == "Windows" else "bin/cellwright")


def free_gb(path: Path) -> float:
    """Free space on the disk that holds ``path`` (or its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free / 1e9


def build_wheel(pip: list[str], out: Path, steps: Steps) -> Path:
    """Build Cellwright's wheel from this source folder (copied first, so the folder is left untouched)."""
    if not (SOURCE / "pyproject.toml").is_file():
        raise steps.fail(f"{SOURCE} is not a Cellwright source folder (no pyproject.toml).",
                         "Run the installer from the folder you downloaded or cloned, or use --from DIR.")
    with tempfile.TemporaryDirectory(prefix="cellwright-src-") as temp:
        copy = Path(temp) / "cellwright"
        shutil.copytree(SOURCE, copy, ignore=_SKIP_IN_COPY)
        steps.run([*pip, "wheel", "--no-deps", "--wheel-dir", out, copy],
                  "Building needs setuptools from the package index; check the internet connection.")
    wheels = sorted(out.glob("cellwright-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise steps.fail(f"pip built no cellwright wheel in {out}.", "Please report this as a bug with the log.")
    return wheels[-1]


def make_venv(python: str, venv: Path, steps: Steps) -> bool:
    """Create ``venv`` (or keep it when it already runs this Python version); return whether it is new."""
    wanted = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if venv_python(venv).exists():
        try:
            have = subprocess.run([venv_python(venv), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                  capture_output=True, text=True, check=False, timeout=60).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            have = ""
        if have == wanted:
            steps.say(f"  keeping the environment {venv} (Python {have}); upgrading it in place")
            return False
        steps.say(f"  replacing the environment {venv} (Python {have or 'broken'} -> {wanted})")
        shutil.rmtree(venv)
    steps.run([python, "-m", "venv", venv], "Choose another Python with --python, or another folder with --prefix.")
    steps.say(f"  created {venv} (Python {wanted})")
    return True


def install(args: argparse.Namespace) -> int:
    """Install or upgrade into ``args.prefix``."""
    facts = detect.gather_facts()
    system = facts.system
    from_dir = Path(args.from_dir).resolve() if args.from_dir else None
    steps = Steps(8)
    try:
        steps.start("Checking this computer")
        steps.say(f"  {system} {facts.machine}, Python {platform.python_version()} ({sys.executable})")
        source_note = f"the offline folder {from_dir}" if from_dir else f"the source folder {SOURCE}"
        steps.say(f"  installing from {source_note}")
        prefix = Path(args.prefix).expanduser().resolve()
        if prefix.is_relative_to(SOURCE) and (SOURCE / "pyproject.toml").is_file():
            raise steps.fail(f"the install folder {prefix} is inside the source folder {SOURCE}.",
                             f"Leave --prefix out (default {default_prefix()}) or choose a folder outside the source.")
        offline_info = None
        if from_dir:
            offline_info = offline.load_offline(from_dir)
            if offline_info is None:
                raise steps.fail(f"{from_dir} has no {offline.OFFLINE_NAME}: it was not made by --download-only.",
                                 "On a computer with internet run 'install.sh --download-only DIR' and copy DIR.")
            problem = offline.mismatch(offline_info, offline.host_target(system, facts.machine), facts.python)
            if problem:
                raise steps.fail(f"{from_dir} does not fit this computer: {problem}.",
                                 f"Collect the files again for this computer: install.sh --download-only DIR --target "
                                 f"{offline.host_target(system, facts.machine)} --python-version "
                                 f"{facts.python[0]}.{facts.python[1]}, or run this installer with --python pointing "
                                 f"to a Python {offline_info.python}.")
            flavor = "cuda" if "and-cuda" in offline_info.tensorflow else "cpu"
            steps.say(f"  TensorFlow: {offline_info.tensorflow} (chosen when the folder was collected)")
        else:
            choice = detect.choose_tensorflow(facts, args.gpu)
            flavor = choice.flavor
            steps.say(f"  TensorFlow: {choice.package} ({choice.flavor} build)")
            for note in choice.notes:
                steps.say(f"  {note}")
        free = free_gb(prefix)
        if free < NEEDED_GB[flavor]:
            raise steps.fail(f"only {free:.1f} GB free at {prefix}; the install needs about {NEEDED_GB[flavor]} GB.",
                             "Free disk space, or choose a folder on another disk with --prefix.")

        steps.start(f"Preparing the install folder {prefix}")
        record = load_record(prefix)
        upgrading = record is not None
        if record is None:
            created = not prefix.exists()
            record = InstallRecord(prefix=str(prefix), created_prefix=created)
        try:
            prefix.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise steps.fail(f"{prefix} cannot be created: {error.strerror or error}.",
                             "Choose a folder you own with --prefix (no administrator rights are needed).") from error
        steps.open_log(prefix / "logs" / f"install-{time.strftime('%Y%m%d-%H%M%S')}.log")
        steps.say(f"  {'upgrading the installation there' if upgrading else 'new installation'}; "
                  f"details go to {steps.log_path}")
        record.save()

        steps.start("Creating the Python environment")
        venv = prefix / "venv"
        make_venv(args.python or sys.executable, venv, steps)
        pip = [str(venv_python(venv)), "-m", "pip"]
        index = ["--no-index", "--find-links", str(from_dir)] if from_dir else []

        steps.start("Getting Cellwright")
        if from_dir:
            wheel = from_dir / offline_info.wheel
            if not wheel.is_file():
                raise steps.fail(f"{wheel} is missing from the offline folder.", "Copy the whole folder again.")
            reqs = (from_dir / "requirements.txt").read_text(encoding="utf-8").splitlines()
            steps.say(f"  {wheel.name}")
        else:
            with tempfile.TemporaryDirectory(prefix="cellwright-wheel-") as temp:
                built = build_wheel(pip, Path(temp), steps)
                for old in (prefix / "logs").glob("cellwright-*.whl"):
                    old.unlink()
                wheel = prefix / "logs" / built.name  # kept beside the logs until the next install
                shutil.copy2(built, wheel)
            reqs = requirements.install_requirements(requirements.wheel_requirements(wheel), choice.package,
                                                     choice.extra_spec)
            steps.say(f"  built {wheel.name}")
        req_file = prefix / "requirements.txt"
        req_file.write_text("\n".join(r for r in reqs if r.strip()) + "\n", encoding="utf-8")

        steps.start("Installing Cellwright and its packages (TensorFlow is large: this takes a few minutes)")
        started = time.monotonic()
        steps.run([*pip, "install", "--upgrade", *index, "-r", req_file],
                  "See the log for pip's full message; run the installer again once the cause is fixed.")
        steps.run([*pip, "install", "--no-deps", "--force-reinstall", *index, wheel],
                  "See the log for pip's full message.")
        steps.say(f"  done in {time.monotonic() - started:.0f} s")
        record.tensorflow = next((r for r in reqs if r.startswith("tensorflow")), "")

        steps.start("Pretrained weights")
        import_offline_weights(from_dir, venv_cellwright(venv), steps)

        steps.start("Checking the installation (cellwright doctor)")
        env = clean_env()
        done = subprocess.run([str(venv_cellwright(venv)), "doctor"], capture_output=True, text=True, env=env,
                              check=False)
        steps.log(done.stdout + done.stderr)
        for line in done.stdout.splitlines():
            steps.say(f"  {line}")
        if done.returncode not in (0, 1):
            raise steps.fail(f"cellwright doctor exited with code {done.returncode}: "
                             f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}",
                             "See the log; run the installer again to repair the environment.")
        if done.returncode == 1:
            steps.say("  (the lines marked ! are warnings: Cellwright is installed and runs)")

        steps.start("Adding Cellwright to the applications menu")
        if args.no_launcher:
            steps.say("  skipped (--no-launcher)")
        else:
            launcher = shortcuts.make_launcher(system, venv, steps)
            if launcher is not None:
                if str(launcher) not in record.launchers:
                    record.launchers.append(str(launcher))
                record.save()  # recorded before it is checked, so --uninstall removes it even if the check fails
                shortcuts.validate_launcher(launcher, steps)
        record.python = platform.python_version()
        record.source = str(from_dir or SOURCE)
        record.stamp("upgrade" if upgrading else "install")
        record.save()
    except (InstallError, OSError, ValueError) as error:
        return report_failure(error, steps)
    steps.close()
    print(f"\nCellwright is {'upgraded' if upgrading else 'installed'} in {prefix}.")
    print(f"Try it on demo data:  {shortcuts.start_line(venv, system, 'demo')}")
    print("Start the app with:")
    print(f"  {shortcuts.start_line(venv, system)}")
    return 0


def report_failure(error: Exception, steps: Steps) -> int:
    """Print which step failed, the cause and the fix (the log keeps the details); return the exit code 1."""
    if not isinstance(error, InstallError):  # an unforeseen problem: still name the step, keep the traceback in the log
        import traceback

        steps.log(traceback.format_exc())
        cause = f"{type(error).__name__}: {error}"
        error = steps.fail(cause, "Run the installer again; if it fails the same way, report it with the log file.")
    print(f"\nFAILED at {error.step}.\n  Cause: {error.cause}\n  Fix:   {error.fix}", file=sys.stderr)
    if steps.log_path:
        print(f"  Details: {steps.log_path}", file=sys.stderr)
    steps.close()
    return 1


def download_only(args: argparse.Namespace) -> int:
    """Collect every wheel (and the named weights) for ``args.target`` / ``args.python_version`` into a folder."""
    facts = detect.gather_facts()
    host = offline.host_target(facts.system, facts.machine)
    target = args.target or host
    python_version = args.python_version or f"{facts.python[0]}.{facts.python[1]}"
    dest = Path(args.download_only).expanduser().resolve()
    steps = Steps(5)
    try:
        steps.start(f"Collecting files for {target}, Python {python_version} into {dest}")
        if target not in offline.TARGETS:
            raise steps.fail(f"unknown --target {target}.", f"Use one of {', '.join(offline.TARGETS)}.")
        if not detect.python_ok(tuple(int(p) for p in python_version.split(".")[:2])):
            raise steps.fail(f"--python-version {python_version} is not supported.", "Use 3.10, 3.11 or 3.12.")
        dest.mkdir(parents=True, exist_ok=True)
        steps.open_log(dest / "download-log.txt")
        system, machine = offline.target_system(target)
        target_facts = detect.SystemFacts(system, machine, facts.python,
                                          facts.nvidia_smi if target == host else None)
        if args.gpu == "cuda" and target == "linux-x86_64":
            choice = detect.TensorflowChoice("tensorflow[and-cuda]", "cuda", notes=[
                "CUDA build: the offline computer needs NVIDIA driver "
                f"{'.'.join(map(str, detect.CUDA_MIN_DRIVER))} or newer."])
        else:
            choice = detect.choose_tensorflow(target_facts, args.gpu)
        steps.say(f"  TensorFlow: {choice.package} ({choice.flavor} build)")
        for note in choice.notes:
            steps.say(f"  {note}")

        with tempfile.TemporaryDirectory(prefix="cellwright-tools-") as temp:
            steps.start("Preparing a temporary pip")
            tools = Path(temp) / "venv"
            steps.run([args.python or sys.executable, "-m", "venv", tools], "Choose another Python with --python.")
            pip = [str(venv_python(tools)), "-m", "pip"]

            steps.start("Building Cellwright's wheel")
            for old in dest.glob("cellwright-*.whl"):
                old.unlink()
            wheel = build_wheel(pip, dest, steps)
            reqs = requirements.install_requirements(requirements.wheel_requirements(wheel), choice.package,
                                                     choice.extra_spec)
            req_file = dest / "requirements.txt"
            req_file.write_text("\n".join(reqs) + "\n", encoding="utf-8")
            steps.say(f"  {wheel.name}; requirements in {req_file}")

            steps.start("Downloading every package (TensorFlow is large: this takes a few minutes)")
            started = time.monotonic()
            steps.run(offline.download_command(pip, req_file, dest, target, python_version),
                      "Some package has no build for this target: try another --python-version.")
            steps.say(f"  done in {time.monotonic() - started:.0f} s")

        steps.start("Pretrained weights")
        names = [n for n in (args.weights or "").split(",") if n.strip()]
        if names:
            fetch_weights(names, dest, steps)
        else:
            steps.say("  none asked for (add --weights mobilenet_v2,... to include backbone weights)")
        offline.OfflineFolder(target, python_version, choice.package, wheel.name, names,
                              time.strftime("%Y-%m-%d %H:%M:%S")).save(dest)
    except (InstallError, OSError, ValueError) as error:
        return report_failure(error, steps)
    steps.close()
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()) / 1e9
    print(f"\nCollected {len(list(dest.glob('*.whl')))} wheels ({size:.2f} GB) in {dest}.")
    print("Copy this folder to the offline computer and run there:")
    print(f"  {'installer/install.ps1 -From' if target.startswith('windows') else 'bash installer/install.sh --from'}"
          f" {dest}")
    return 0


def offline_weights_dir(folder: Path) -> Path:
    """Where an offline folder keeps weights: ``folder/weights/models`` (``KERAS_HOME=folder/weights`` when fetched)."""
    return folder / "weights" / "models"


def import_offline_weights(from_dir: Path | None, cellwright: Path | str, steps: Steps) -> None:
    """``cellwright weights import DIR --force`` the weights of the offline folder ``from_dir`` (if it has any)."""
    weights_dir = offline_weights_dir(from_dir) if from_dir else None
    if weights_dir and weights_dir.is_dir() and any(weights_dir.iterdir()):
        steps.run([cellwright, "weights", "import", weights_dir, "--force"],
                  "Copy the weights files by hand into the folder 'cellwright weights where' prints.")
        steps.say(f"  imported the weights in {weights_dir} into the Keras cache")
    else:
        steps.say("  none to import (backbones download their weights on first use; offline: --download-only "
                  "--weights NAME)")


def fetch_weights(names: list[str], dest: Path, steps: Steps) -> None:
    """``cellwright weights fetch`` each name into ``dest/weights`` with an already installed Cellwright."""
    installed = venv_cellwright(default_prefix() / "venv")
    cellwright = str(installed) if installed.exists() else shutil.which("cellwright")
    if not cellwright:
        raise steps.fail("fetching weights needs Cellwright installed on this (connected) computer.",
                         "Install it here first (install.sh), then run --download-only again with --weights.")
    env = clean_env({"KERAS_HOME": str(offline_weights_dir(dest).parent)})
    for name in names:
        steps.run([cellwright, "weights", "fetch", name.strip()], "Check the name with 'cellwright weights list'.",
                  env=env)
        steps.say(f"  {name.strip()}")


def remove(args: argparse.Namespace) -> int:
    """``--uninstall``: remove exactly what the install record lists."""
    prefix = Path(args.prefix).expanduser().resolve()
    print(f"Removing Cellwright from {prefix}")
    try:
        removed = uninstall(prefix)
    except FileNotFoundError:
        print(f"FAILED: no Cellwright installation in {prefix} (no install record there).\n"
              "  Fix: give the folder you installed into with --prefix.", file=sys.stderr)
        return 1
    print(f"Removed {len(removed)} items. Your runs, recipes, data and the weights cache (~/.keras) were not touched.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="install.sh", description="Install Cellwright for your user account (no administrator rights): a "
        "private Python environment, the right TensorFlow for this computer, a check, and an app-menu entry. "
        "Running it again upgrades in place and keeps your runs, recipes and weights.")
    parser.add_argument("--prefix", default=str(default_prefix()),
                        help=f"install folder (default: {default_prefix()})")
    parser.add_argument("--gpu", choices=["auto", "cuda", "cpu"], default="auto",
                        help="TensorFlow build: auto (CUDA when an NVIDIA GPU with a recent driver is found)")
    parser.add_argument("--python", help="the Python to use (default: the one running the installer)")
    parser.add_argument("--no-launcher", action="store_true", help="do not add the app-menu entry")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--uninstall", action="store_true", help="remove what the installer created in --prefix")
    mode.add_argument("--download-only", metavar="DIR",
                      help="collect every file for an offline install into DIR (needs internet)")
    mode.add_argument("--from", dest="from_dir", metavar="DIR", help="install from a --download-only folder, offline")
    parser.add_argument("--target", choices=offline.TARGETS, help="with --download-only: the offline computer's "
                        "system (default: this one)")
    parser.add_argument("--python-version", help="with --download-only: the offline computer's Python, e.g. 3.11")
    parser.add_argument("--weights", help="with --download-only: backbone weights to include, e.g. mobilenet_v2")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.uninstall:
        return remove(args)
    if args.download_only:
        return download_only(args)
    return install(args)

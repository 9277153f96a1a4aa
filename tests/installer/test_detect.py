"""GPU, driver, platform and Python detection with faked system answers (and a fake ``nvidia-smi`` program)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from installer import detect
from installer.detect import SystemFacts, choose_tensorflow

DETECT = Path(detect.__file__)
H100 = "NVIDIA H100 80GB HBM3, 550.54.15\n"
K80_OLD = "Tesla K80, 470.82.01\n"
NO_DRIVER = "failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."


def linux(smi: str | None) -> SystemFacts:
    return SystemFacts("Linux", "x86_64", (3, 11), smi)


def test_no_gpu_gets_the_cpu_build():
    choice = choose_tensorflow(linux(None))
    assert (choice.package, choice.flavor, choice.gpus) == ("tensorflow-cpu", "cpu", [])
    assert "No NVIDIA GPU found" in choice.notes[0]


def test_old_driver_gets_the_cpu_build_and_says_which_driver_is_needed():
    choice = choose_tensorflow(linux(K80_OLD))
    assert choice.package == "tensorflow-cpu" and choice.gpus == [detect.Gpu("Tesla K80", "470.82.01")]
    note = choice.notes[0]
    assert "driver 470.82.01 is too old" in note and "525.60.13 or newer" in note and "run this installer again" in note


def test_new_driver_gets_the_cuda_build():
    choice = choose_tensorflow(linux(H100))
    assert (choice.package, choice.flavor) == ("tensorflow[and-cuda]", "cuda")
    assert "NVIDIA H100 80GB HBM3" in choice.notes[0] and "550.54.15" in choice.notes[0]


def test_the_oldest_driver_of_several_gpus_decides():
    choice = choose_tensorflow(linux("NVIDIA A100, 535.104.05\nQuadro P400, 515.65.01\n"))
    assert choice.flavor == "cpu" and "515.65.01" in choice.notes[0]


def test_driver_exactly_at_the_minimum_is_enough():
    assert choose_tensorflow(linux("GPU, 525.60.13")).flavor == "cuda"
    assert choose_tensorflow(linux("GPU, 525.60.12")).flavor == "cpu"


def test_broken_driver_is_named():
    choice = choose_tensorflow(linux(NO_DRIVER))
    assert choice.flavor == "cpu" and "could not reach an NVIDIA driver" in choice.notes[0]


def test_cpu_can_be_forced_and_cuda_without_gpu_falls_back_with_a_reason():
    assert choose_tensorflow(linux(H100), "cpu").package == "tensorflow-cpu"
    choice = choose_tensorflow(linux(None), "cuda")
    assert choice.flavor == "cpu" and "--gpu cuda was given" in choice.notes[0]
    with pytest.raises(ValueError, match="Received: gpu=fast"):
        choose_tensorflow(linux(None), "fast")


def test_apple_silicon_and_intel_macs_get_tensorflow():
    arm = choose_tensorflow(SystemFacts("Darwin", "arm64", (3, 12)))
    assert (arm.package, arm.flavor, arm.extra_spec) == ("tensorflow", "macos", "")
    intel = choose_tensorflow(SystemFacts("Darwin", "x86_64", (3, 11)))
    assert intel.package == "tensorflow" and intel.extra_spec == ",<2.17" and "Intel Mac" in intel.notes[0]


def test_windows_gets_the_cpu_build_and_is_told_about_wsl2_when_it_has_a_gpu():
    choice = choose_tensorflow(SystemFacts("Windows", "AMD64", (3, 11), H100))
    assert choice.package == "tensorflow-cpu" and "WSL2" in choice.notes[0]
    assert choose_tensorflow(SystemFacts("Windows", "AMD64", (3, 11), None)).notes == []


def test_arm_linux_gets_tensorflow_cpu_only():
    choice = choose_tensorflow(SystemFacts("Linux", "aarch64", (3, 11), H100))
    assert (choice.package, choice.flavor) == ("tensorflow", "cpu") and "x86_64" in choice.notes[0]


@pytest.mark.parametrize("version,ok", [((3, 9), False), ((3, 10), True), ((3, 12), True), ((3, 13), False)])
def test_python_versions(version, ok):
    assert detect.python_ok(version) is ok


@pytest.mark.parametrize("system,says", [("Linux", "python3.11-venv"), ("Darwin", "universal2 installer"),
                                         ("Windows", "winget install --scope user Python.Python.3.12")])
def test_python_advice_says_exactly_what_to_install(system, says):
    text = detect.python_advice(system, (3, 9))
    assert "this computer has Python 3.9" in text and says in text


def _fake_nvidia_smi(folder: Path, output: str, code: int = 0) -> dict[str, str]:
    (folder / "answer.txt").write_text(output)
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\ncat '{folder / 'answer.txt'}'\nexit {code}\n")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.skipif(sys.platform == "win32", reason="shell-script fake")
@pytest.mark.parametrize("output,code,package", [(H100, 0, "tensorflow[and-cuda]"), (K80_OLD, 0, "tensorflow-cpu"),
                                                 (NO_DRIVER[8:], 9, "tensorflow-cpu")])
def test_detect_script_runs_standalone_and_reads_nvidia_smi(tmp_path, output, code, package):
    env = _fake_nvidia_smi(tmp_path, output, code)
    env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, "-I", str(DETECT), "--json"], capture_output=True, text=True, env=env,
                          check=True)
    report = json.loads(done.stdout)
    if detect.platform.system() == "Linux" and detect.platform.machine() == "x86_64":
        assert report["tensorflow"]["package"] == package
    if code:
        assert report["facts"]["nvidia_smi"].startswith("failed: NVIDIA-SMI has failed")

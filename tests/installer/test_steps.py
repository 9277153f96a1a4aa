"""Failed steps name the step, the cause and the fix; the log keeps the command's whole output."""

from __future__ import annotations

import io
import sys

import pytest

from installer.steps import InstallError, Steps, diagnose


def test_a_failed_command_names_step_cause_and_fix_and_logs_everything(tmp_path):
    out = io.StringIO()
    steps = Steps(3, tmp_path / "logs" / "install.log", stream=out)
    steps.start("Installing packages")
    script = "import sys; print('Looking in links: /x'); print('ERROR: No matching distribution found for zarr>=2'); " \
             "sys.exit(1)"
    with pytest.raises(InstallError) as caught:
        steps.run([sys.executable, "-c", script], "generic fix")
    error = caught.value
    assert error.step == "step 1/3 'Installing packages'"
    assert "exited with code 1" in error.cause and "No installable file for zarr>=2" in error.cause
    assert "--download-only" in error.fix
    steps.close()
    log = (tmp_path / "logs" / "install.log").read_text()
    assert "[1/3] Installing packages" in log and "Looking in links: /x" in log and "$ " in log
    assert out.getvalue().startswith("[1/3] Installing packages")


def test_text_said_before_the_log_opens_is_kept(tmp_path):
    steps = Steps(1, stream=io.StringIO())
    steps.say("early line")
    steps.open_log(tmp_path / "a.log")
    steps.say("late line")
    steps.close()
    assert (tmp_path / "a.log").read_text().splitlines() == ["early line", "late line"]


@pytest.mark.parametrize("output,cause", [
    ("OSError: [Errno 28] No space left on device", "The disk is full."),
    ("Failed to establish a new connection: [Errno -3] Temporary failure in name resolution", "could not be reached"),
    ("Error: Command '['/p/venv/bin/python', '-m', 'ensurepip']' returned non-zero. ensurepip is not available",
     "cannot create virtual environments"),
    ("ERROR: something new\n", "ERROR: something new"),
])
def test_diagnose_known_and_unknown_causes(output, cause):
    found, fix = diagnose(output, "default fix")
    assert cause in found and fix


def test_diagnose_keeps_a_cellwright_fix_line():
    output = "error: backbone x: Could not download it\n    fix: Run `cellwright weights fetch x` online.\n"
    assert diagnose(output, "default fix") == ("error: backbone x: Could not download it",
                                               "Run `cellwright weights fetch x` online.")
    assert diagnose("ERROR: pip failed\n", "default fix")[1] == "default fix"

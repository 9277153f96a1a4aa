"""Offline folders: target systems, pip download flags and the fit check on the offline computer."""

from __future__ import annotations

import pytest

from installer import offline


@pytest.mark.parametrize("system,machine,target", [("Linux", "x86_64", "linux-x86_64"),
                                                   ("Linux", "aarch64", "linux-aarch64"),
                                                   ("Darwin", "arm64", "macos-arm64"),
                                                   ("Darwin", "x86_64", "macos-x86_64"),
                                                   ("Windows", "AMD64", "windows-amd64")])
def test_host_target_round_trip(system, machine, target):
    assert offline.host_target(system, machine) == target
    assert offline.host_target(*offline.target_system(target)) == target


def test_download_command_asks_for_binary_wheels_of_the_target(tmp_path):
    cmd = offline.download_command(["pip"], tmp_path / "r.txt", tmp_path, "linux-x86_64", "3.12")
    assert "--only-binary=:all:" in cmd and cmd[cmd.index("--python-version") + 1] == "3.12"
    assert "cp312" in cmd and "manylinux_2_17_x86_64" in cmd and "manylinux2014_x86_64" in cmd
    assert "macosx_11_0_arm64" in offline.platform_tags("macos-arm64")
    assert offline.platform_tags("windows-amd64") == ["win_amd64"]
    with pytest.raises(ValueError, match="Received: target=solaris"):
        offline.platform_tags("solaris")


def test_mismatch_names_both_sides(tmp_path):
    folder = offline.OfflineFolder("windows-amd64", "3.12", "tensorflow-cpu", "c.whl", [], "now")
    folder.save(tmp_path)
    loaded = offline.load_offline(tmp_path)
    assert loaded == folder
    text = offline.mismatch(loaded, "linux-x86_64", (3, 11))
    assert "files for windows-amd64, this computer is linux-x86_64" in text and "Python 3.12" in text
    assert offline.mismatch(loaded, "windows-amd64", (3, 12)) is None
    assert offline.load_offline(tmp_path / "nothing") is None

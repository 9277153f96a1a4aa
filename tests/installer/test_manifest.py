"""--uninstall removes exactly what the install record lists: runs, recipes and other files stay."""

from __future__ import annotations

from pathlib import Path

from installer.manifest import InstallRecord, load_record, uninstall


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _installed(tmp_path: Path, *, created_prefix: bool) -> tuple[Path, Path, InstallRecord]:
    prefix, apps = tmp_path / "prefix", tmp_path / "home" / "applications"
    (prefix / "venv" / "bin").mkdir(parents=True)
    (prefix / "venv" / "bin" / "cellwright").write_text("#!/bin/sh\n")
    (prefix / "logs").mkdir()
    (prefix / "logs" / "install-1.log").write_text("log")
    (prefix / "requirements.txt").write_text("numpy\n")
    apps.mkdir(parents=True)
    launcher = apps / "cellwright.desktop"
    launcher.write_text(f"[Desktop Entry]\nExec={prefix}/venv/bin/cellwright gui %f\n")
    record = InstallRecord(prefix=str(prefix), created_prefix=created_prefix, launchers=[str(launcher)])
    record.stamp("install")
    record.save()
    return prefix, launcher, record


def test_uninstall_leaves_user_files_in_the_prefix_and_home(tmp_path):
    prefix, launcher, _ = _installed(tmp_path, created_prefix=True)
    (prefix / "my-runs").mkdir()
    (prefix / "my-runs" / "report.html").write_text("mine")
    (launcher.parent / "other-app.desktop").write_text("[Desktop Entry]\n")
    removed = uninstall(prefix, say=lambda _text: None)
    assert launcher in removed and not launcher.exists()
    assert _files(prefix) == {"my-runs", "my-runs/report.html"}
    assert _files(launcher.parent) == {"other-app.desktop"}


def test_an_emptied_prefix_the_installer_made_is_removed_but_not_one_it_found(tmp_path):
    prefix, _, _ = _installed(tmp_path, created_prefix=True)
    uninstall(prefix, say=lambda _text: None)
    assert not prefix.exists()
    prefix, _, _ = _installed(tmp_path / "again", created_prefix=False)
    uninstall(prefix, say=lambda _text: None)
    assert prefix.is_dir() and _files(prefix) == set()


def test_a_launcher_replaced_by_another_installation_is_kept(tmp_path):
    prefix, launcher, _ = _installed(tmp_path, created_prefix=True)
    launcher.write_text("[Desktop Entry]\nExec=/opt/other/cellwright gui %f\n")
    said: list[str] = []
    uninstall(prefix, say=said.append)
    assert launcher.read_text().startswith("[Desktop Entry]") and any("kept" in line for line in said)


def test_record_round_trip_keeps_history(tmp_path):
    prefix, _, record = _installed(tmp_path, created_prefix=False)
    record.stamp("upgrade")
    record.save()
    loaded = load_record(prefix)
    assert loaded == record and [h.split()[-1] for h in loaded.history] == ["install", "upgrade"]
    assert load_record(tmp_path / "nothing") is None

"""The requirements file the installer writes: Cellwright's own dependencies with the chosen TensorFlow build."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import tomllib

from installer.requirements import install_requirements, split_requirement, wheel_requirements

ROOT = Path(__file__).resolve().parents[2]


def _wheel_like_pyproject(tmp_path: Path) -> Path:
    """A wheel whose METADATA lists pyproject's dependencies the way setuptools writes them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [f"Requires-Dist: {dep}" for dep in project["dependencies"]]
    for extra, deps in project["optional-dependencies"].items():
        lines += [f'Requires-Dist: {dep}; extra == "{extra}"' for dep in deps]
    wheel = tmp_path / "cellwright-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("cellwright-0.1.0.dist-info/METADATA",
                         "Metadata-Version: 2.4\nName: cellwright\nVersion: 0.1.0\n" + "\n".join(lines) + "\n")
    return wheel


def test_cuda_choice_replaces_every_tensorflow_line_and_drops_extras(tmp_path):
    requires = wheel_requirements(_wheel_like_pyproject(tmp_path))
    assert any(r.startswith("tensorflow-cpu") for r in requires) and any("extra ==" in r for r in requires)
    lines = install_requirements(requires, "tensorflow[and-cuda]")
    names = [split_requirement(line)[0] for line in lines]
    assert names.count("tensorflow") == 1 and "tensorflow-cpu" not in names
    assert lines[-1] == "tensorflow[and-cuda]>=2.16"
    assert "pytest>=8" not in lines and "numpy>=1.26" in lines and "keras>=3.5,<4" in lines


def test_intel_mac_limit_is_added_to_cellwrights_range(tmp_path):
    lines = install_requirements(wheel_requirements(_wheel_like_pyproject(tmp_path)), "tensorflow", ",<2.17")
    assert lines[-1] == "tensorflow>=2.16,<2.17"


def test_a_file_that_is_not_a_wheel_is_named(tmp_path):
    bad = tmp_path / "bad.whl"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("x.txt", "")
    with pytest.raises(ValueError, match="bad.whl is not a wheel"):
        wheel_requirements(bad)

"""Run-file names are written down once (``builder/run_folder/files.py``); no other module spells them."""

from __future__ import annotations

import ast
from pathlib import Path

from builder.run_folder import files

ROOT = Path(__file__).resolve().parents[3]
OWNER = ROOT / "builder" / "run_folder"

#: Files inside an exported package that happen to share a run file's name (the package's own layout).
NOT_RUN_FILES = {
    ("builder/model_files/bundle_reader.py", "recipe.yaml"),  # BundleLayout: the bundle's own file names
    ("builder/model_files/bundle_reader.py", "test_input.npy"),
    ("builder/model_files/bundle_reader.py", "model.onnx"),
    ("builder/export/bioimageio.py", "test_input.npy"),  # inside a bioimage.io package
}


def run_file_literals(path: Path, names: set[str]) -> list[tuple[int, str]]:
    """``(line, text)`` of string constants in ``path`` that name a run file: the bare name or a path part.

    Prose (a constant with a space, e.g. an error message) is not counted.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and " " not in node.value.strip():
            parts = set(node.value.strip().replace("\\", "/").split("/"))
            if parts & names:
                found.append((node.lineno, node.value))
    return sorted(found)


def test_the_scan_finds_a_literal(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('a = run / "metrics.json"\nb = "checkpoints/best.keras"\nc = "the metrics.json file"\n')
    assert run_file_literals(sample, {f.name for f in files.ALL}) == [(1, "metrics.json"),
                                                                      (2, "checkpoints/best.keras")]


def test_no_run_file_name_outside_the_run_folder_package():
    names = {f.name for f in files.ALL}
    offenders = []
    for path in sorted([*(ROOT / "builder").rglob("*.py"), *(ROOT / "gui").rglob("*.py")]):
        if path.is_relative_to(OWNER):
            continue
        rel = path.relative_to(ROOT).as_posix()
        offenders += [f"{rel}:{line}: {text!r}" for line, text in run_file_literals(path, names)
                      if (rel, text) not in NOT_RUN_FILES]
    assert not offenders, ("Run-file names belong in builder/run_folder/files.py; use RunFolder instead:\n"
                           + "\n".join(offenders))


def test_the_names_on_disk_never_change():
    """Old run folders must keep opening: these are the names every released version wrote."""
    assert {f.name for f in files.ALL} >= {
        "recipe.yaml", "split.json", "environment.json", "events.jsonl", "history.json", "history.csv",
        "state.json", "metrics.json", "normalization.json", "origin.json", "data_info.json", "model_summary.json",
        "data_check.json", "postprocess.json", "stages.json", "test_input.npy", "model.png", "checkpoints",
        "best.keras", "last.keras", "exports", "evaluation", "report.html", "report.pdf"}

"""Hostile and broken recipe files: refused with a located message, never a hang, a traceback or huge memory.

Every file goes through the real CLI (``cellwright validate``) in a subprocess that has an address-space
limit (so a memory blow-up fails the test instead of the machine) and a generous time limit (so a hang
fails the test instead of blocking it). Exit code 3 means a traceback (a bug), so only 1 and 2 pass.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from builder.recipe import validate_text
from builder.recipe.yaml_limits import MAX_DEPTH, MAX_TEXT_CHARS, MAX_VALUES
from tests.builder.recipe.hostile_texts import ALIAS_BOMB

REPO = Path(__file__).resolve().parents[3]
MEMORY_LIMIT = 1 << 30  # 1 GiB of address space; validating a normal recipe needs about 300 MB
HANG_LIMIT_S = 60  # far above the normal run time; reaching it means the command hangs

VALID = """\
cellwright: 1
name: hostile
task: segmentation
data: {layout: demo, demo: nuclei, masks: masks}
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``cellwright ARGS`` with this checkout's code, limited in memory and (generously) in time."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [sys.executable, "-m", "builder.cli.main", *args], capture_output=True, text=True, env=env,
        timeout=HANG_LIMIT_S, preexec_fn=_limit_memory, cwd=REPO,
    )


def validate_cli(path: Path) -> str:
    """Validate ``path`` with the CLI; require a refusal (exit 1 or 2) without a traceback; return the output."""
    result = run_cli("validate", str(path))
    output = result.stdout + result.stderr
    assert result.returncode in (1, 2), f"exit {result.returncode}:\n{output[-3000:]}"
    assert "Traceback" not in output and "This is a bug" not in output, output[-3000:]
    return output


def _write(tmp_path: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_alias_bomb_is_refused_at_the_alias_that_passes_the_limit(tmp_path):
    path = _write(tmp_path, ALIAS_BOMB)
    output = validate_cli(path)
    # a..d expand to 7 381 values; the fifth line's first alias brings the count past the limit
    assert f"{path}:5:" in output, output
    assert f"more than {MAX_VALUES} values once its aliases" in output


def test_merge_key_bomb_is_refused(tmp_path):
    """``<<: [*a, *a, ...]`` merges copy whole mappings: nested, they explode like plain aliases."""
    lines = ["m0: &m0 {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8}"]
    lines += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}]}}" for i in range(1, 12)]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    output = validate_cli(path)
    assert f"{path}:5:" in output and f"more than {MAX_VALUES} values" in output, output


def test_alias_that_contains_itself_is_refused(tmp_path):
    path = _write(tmp_path, VALID + "model: &m {params: [*m]}\n")
    output = validate_cli(path)
    assert f"{path}:5:" in output and "`*m` refers to the mapping or list it is part of" in output, output


def test_sensible_aliases_still_work():
    """Anchors and aliases are plain YAML; a recipe that uses them sensibly stays valid."""
    text = VALID + "preprocess:\n  normalize: &norm {method: percentile, low: 2, high: 99}\n  target_normalize: *norm\n"
    recipe, problems = validate_text(text, "anchors.yaml")
    assert recipe is not None, [p.format() for p in problems]
    assert recipe.preprocess.target_normalize == recipe.preprocess.normalize
    assert recipe.preprocess.normalize.low == 2


def test_random_binary_bytes_are_refused(tmp_path):
    path = tmp_path / "image.yaml"
    path.write_bytes(random.Random(7).randbytes(4000))
    output = validate_cli(path)
    assert f"{path}: This file is not a text (UTF-8) file" in output, output


def test_control_characters_are_refused_with_their_position(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: x\ntask: seg\x00\x01\x02mentation\n")
    output = validate_cli(path)
    assert f"{path}:2:10: The file holds a character that text files do not contain (#x0000)" in output, output


def test_ten_thousand_nested_lists_are_refused(tmp_path):
    path = _write(tmp_path, VALID + "description: " + "[" * 10_000 + "]" * 10_000 + "\n")
    output = validate_cli(path)
    assert f"{path}:5:{13 + MAX_DEPTH}: The recipe is nested too deeply" in output, output


def test_deeply_nested_mappings_are_refused(tmp_path):
    nested = "".join(" " * level + "k:\n" for level in range(300)) + " " * 300 + "k: 1\n"
    path = _write(tmp_path, VALID + nested)
    output = validate_cli(path)
    assert f"{path}:{4 + MAX_DEPTH}:" in output and "nested too deeply" in output, output


@pytest.mark.parametrize(
    ("yaml_text", "where", "expected"),
    [
        ("train:\n  batch_size: -5\n", "7:3 train.batch_size", "Expected a number >= 1 and <= 4096"),
        ("train:\n  batch_size: 0\n", "7:3 train.batch_size", "Received: batch_size=0."),
        (f"train:\n  batch_size: {2**63}\n", "7:3 train.batch_size", f"Received: batch_size={2**63}."),
        ("preprocess:\n  tile: {size: 1000000000000}\n", "7:10 preprocess.tile.size",
         "Expected a number >= 16 and <= 8192"),
        ("preprocess:\n  image_size: 1000000000000\n", "7:3 preprocess.image_size",
         "Expected a number >= 8 and <= 4096"),
        ("train:\n  seed: " + "9" * 5000 + "\n", "7:9", "This number has 5000 digits"),
        ("train:\n  optimizer: {learning_rate: .nan}\n", "7:15 train.optimizer.learning_rate",
         "Expected a finite number"),
        ("preprocess:\n  normalize: {method: fixed, fixed_max: 1.0e+300}\n",
         "7:30 preprocess.normalize.fixed_max", "<= 1000000000000.0"),
    ],
)
def test_huge_and_negative_numbers_are_refused(tmp_path, yaml_text, where, expected):
    path = _write(tmp_path, VALID + "\n" + yaml_text)
    output = validate_cli(path)
    assert f"{path}:{where}" in output and expected in output, output


def test_huge_string_is_refused_and_not_echoed_whole(tmp_path):
    path = _write(tmp_path, VALID + "description: " + "x" * 50_000 + "\n")
    output = validate_cli(path)
    assert f"{path}:5:1 description: String should have at most 10000 characters" in output, output
    assert "(50002 characters)" in output and len(output) < 2000


def test_huge_unknown_key_is_refused_and_not_echoed_whole(tmp_path):
    path = _write(tmp_path, VALID + "? " + "k" * 50_000 + "\n: 1\n")
    output = validate_cli(path)
    assert f"{path}:5:3 kkkkk" in output and "Unknown key" in output, output
    assert len(output) < 2000


def test_fifty_megabyte_file_is_refused_without_being_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("w", encoding="utf-8") as stream:
        stream.write(VALID + "description: ")
        chunk = "x" * (1 << 20)
        for _ in range(50):
            stream.write(chunk)
        stream.write("\n")
    output = validate_cli(path)
    assert f"{path}: The recipe is too large to be read ({path.stat().st_size} bytes" in output, output


def test_too_long_text_is_refused_in_memory():
    """The GUI hands text, not files, to the loader: the size limit holds there too."""
    recipe, problems = validate_text(VALID + "# " + "x" * MAX_TEXT_CHARS + "\n", "pasted.yaml")
    assert recipe is None
    assert problems[0].where == "pasted.yaml" and "too large to be read" in problems[0].what


def test_bounded_batch_size_stops_train_before_a_run_folder_exists(tmp_path):
    path = _write(tmp_path, VALID + "train: {batch_size: 0}\n")
    runs = tmp_path / "runs"
    result = run_cli("train", str(path), "--runs", str(runs))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "train.batch_size: Expected a number >= 1 and <= 4096. Received: batch_size=0." in output, output
    assert not runs.exists() or not any(runs.iterdir())


def test_endless_file_is_refused_after_reading_what_a_recipe_can_hold():
    output = validate_cli(Path("/dev/zero"))
    assert "/dev/zero: The recipe is too large to be read (more than" in output, output

"""Tests of the built-in demo data generators (builder.data.demo) and `cellwright demo-data`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from builder.cli.main import main
from builder.data.demo import DEMO_KINDS, make_demo
from builder.data.demo_timelapse import check_ctc_sequence
from builder.errors import DataError


def _read(path: Path) -> np.ndarray:
    return tifffile.imread(path)


def _pixel_size(path: Path) -> float:
    with tifffile.TiffFile(path) as tif:
        num, den = tif.pages[0].tags["XResolution"].value
        assert tif.imagej_metadata["unit"] == "um"
    return den / num


def _touching_pairs(labels: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of different labels that share a 4-connected border."""
    pairs = set()
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        m = (a != b) & (a > 0) & (b > 0)
        pairs |= {(min(x, y), max(x, y)) for x, y in zip(a[m].tolist(), b[m].tolist(), strict=True)}
    return pairs


SMALL = {"nuclei": (3, 96), "cells": (4, 48), "denoise": (2, 64), "label_free": (2, 64), "timelapse": (8, 64)}


@pytest.mark.parametrize("kind", list(DEMO_KINDS))
def test_each_kind_writes_its_layout_readme_and_pixel_size(tmp_path, kind):
    n, size = SMALL[kind]
    out = make_demo(kind, tmp_path / kind, n_images=n, size=size, seed=1)
    spec = DEMO_KINDS[kind]
    readme = (out / "README.txt").read_text()
    assert kind in readme and spec.task in readme and "Layout" in readme
    for folder in spec.folders:
        assert (out / folder).is_dir(), folder
    tifs = sorted(out.rglob("*.tif"))
    assert tifs
    for path in tifs[:3]:
        assert _pixel_size(path) == pytest.approx(spec.pixel_size_um, rel=1e-3)
        assert _read(path).shape[:2] == (size, size)
    if kind in ("nuclei", "denoise", "label_free"):
        second = "masks" if kind == "nuclei" else "targets"
        names = sorted(p.name for p in (out / "images").iterdir())
        assert names == sorted(p.name for p in (out / second).iterdir())
        assert len(names) == n
    if kind == "cells":
        assert [len(list((out / c).glob("*.tif"))) for c in spec.folders] == [n] * len(spec.folders)


@pytest.mark.parametrize("kind", ["nuclei", "cells", "timelapse"])
def test_same_seed_gives_identical_arrays_and_other_seed_differs(tmp_path, kind):
    n, size = SMALL[kind]
    a = make_demo(kind, tmp_path / "a", n_images=n, size=size, seed=7)
    b = make_demo(kind, tmp_path / "b", n_images=n, size=size, seed=7)
    c = make_demo(kind, tmp_path / "c", n_images=n, size=size, seed=8)
    files = sorted(p.relative_to(a) for p in a.rglob("*.tif"))
    assert files == sorted(p.relative_to(b) for p in b.rglob("*.tif"))
    for rel in files:
        x, y = _read(a / rel), _read(b / rel)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), rel
    first = files[0]
    assert _read(a / first).tobytes() != _read(c / first).tobytes()


def test_more_images_keep_the_first_ones(tmp_path):
    a = make_demo("nuclei", tmp_path / "a", n_images=1, size=64, seed=3)
    b = make_demo("nuclei", tmp_path / "b", n_images=2, size=64, seed=3)
    assert np.array_equal(_read(a / "images/nuclei_000.tif"), _read(b / "images/nuclei_000.tif"))


def test_nuclei_masks_are_sound_instances_with_touching_and_overlap(tmp_path):
    out = make_demo("nuclei", tmp_path / "n", n_images=4, size=128, seed=0)
    touching = 0
    for mask_path in sorted((out / "masks").glob("*.tif")):
        labels = _read(mask_path)
        image = _read(out / "images" / mask_path.name)
        assert labels.dtype == np.uint16 and image.dtype == np.uint16
        ids = np.unique(labels)[1:]
        assert 8 <= len(ids) <= 80, len(ids)
        for i, sl in enumerate(ndi.find_objects(labels.astype(np.int32)), 1):
            if sl is None:
                continue
            assert ndi.label(labels[sl] == i)[1] == 1, f"label {i} in {mask_path.name} is in pieces"
            assert (labels == i).sum() >= 12
        touching += len(_touching_pairs(labels))
        # nuclei are brighter than the background, and not uniformly so
        fg, bg = image[labels > 0].astype(float), image[labels == 0].astype(float)
        assert fg.mean() > bg.mean() + 2 * bg.std()
        per_cell = ndi.mean(image, labels, ids)
        assert np.std(per_cell) / np.mean(per_cell - 100) > 0.1
    assert touching >= 4


def test_cells_classes_differ_in_shape(tmp_path):
    from skimage.filters import gaussian, threshold_otsu
    from skimage.measure import label, regionprops

    out = make_demo("cells", tmp_path / "c", n_images=8, size=64, seed=0)

    def elongation(path: Path) -> float:
        img = gaussian(_read(path).astype(float), 1.5)
        lab = label(img > threshold_otsu(img))
        centre = lab[32, 32] or np.bincount(lab.ravel())[1:].argmax() + 1
        region = next(r for r in regionprops(lab) if r.label == centre)
        return region.axis_major_length / max(region.axis_minor_length, 1.0)

    ratio = {c: np.median([elongation(p) for p in (out / c).glob("*.tif")]) for c in ("round", "elongated")}
    assert ratio["elongated"] > ratio["round"] + 0.8, ratio


def test_denoise_targets_are_the_noise_free_images(tmp_path):
    out = make_demo("denoise", tmp_path / "d", n_images=2, size=64, seed=0)
    for path in sorted((out / "images").glob("*.tif")):
        noisy = _read(path).astype(float)
        clean = _read(out / "targets" / path.name)
        assert clean.dtype == np.float32
        residual = noisy - clean
        assert abs(residual.mean()) < 1.0 and residual.std() > 3.0
        # the clean image is smooth: its pixel-to-pixel differences are much smaller than the noisy one's
        assert np.abs(np.diff(clean, axis=1)).mean() < 0.5 * np.abs(np.diff(noisy, axis=1)).mean()


def test_label_free_target_nuclei_sit_in_dark_cells_of_the_transmitted_image(tmp_path):
    out = make_demo("label_free", tmp_path / "l", n_images=2, size=96, seed=0)
    for path in sorted((out / "images").glob("*.tif")):
        phase = _read(path).astype(float)
        fluo = _read(out / "targets" / path.name).astype(float)
        nuclear = fluo > np.percentile(fluo, 95)
        assert phase[nuclear].mean() < np.median(phase) - 0.05 * np.median(phase)


def test_timelapse_lineage_is_consistent_with_divisions_and_appearances(tmp_path):
    out = make_demo("timelapse", tmp_path / "t", n_images=20, size=96, seed=0)
    assert check_ctc_sequence(out) == []
    rows = [tuple(map(int, line.split())) for line in (out / "01_GT/TRA/man_track.txt").read_text().splitlines()]
    assert len(list((out / "01").glob("t*.tif"))) == 20
    assert any(p for *_, p in rows), "no division"
    assert any(b > 0 and p == 0 for _, b, _, p in rows), "no cell appears"
    assert any(e < 19 and not any(p == label for *_, p in rows) for label, _, e, _ in rows), "no cell disappears"
    for _, b, _, p in rows:
        if p:
            mother = next(r for r in rows if r[0] == p)
            assert mother[2] == b - 1
    assert sorted((out / "01_GT/SEG").glob("*.tif"))


def test_ctc_checker_finds_broken_lineage(tmp_path):
    out = make_demo("timelapse", tmp_path / "t", n_images=10, size=64, seed=2)
    track_file = out / "01_GT/TRA/man_track.txt"
    lines = track_file.read_text().splitlines()
    label, b, e, p = lines[0].split()
    track_file.write_text("\n".join([f"{label} {b} {int(e) + 1 if int(e) < 9 else int(e) - 1} {p}", *lines[1:]]))
    assert any(f"label {label}" in problem for problem in check_ctc_sequence(out))
    track_file.write_text("\n".join([*lines[1:], "999 3 4 12345"]))
    problems = check_ctc_sequence(out)
    assert any(f"label {label} is in the TRA masks" in x for x in problems)
    assert any("parent 12345" in x for x in problems)


def test_make_demo_refuses_bad_requests(tmp_path):
    with pytest.raises(DataError, match="unknown demo kind"):
        make_demo("blobs", tmp_path / "x")
    with pytest.raises(DataError, match="--n"):
        make_demo("nuclei", tmp_path / "x", n_images=0)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me")
    with pytest.raises(DataError, match="not empty"):
        make_demo("nuclei", tmp_path / "full", n_images=1, size=32)
    make_demo("nuclei", tmp_path / "full", n_images=3, size=32, force=True)
    make_demo("nuclei", tmp_path / "full", n_images=1, size=32, force=True)
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep me"
    assert len(list((tmp_path / "full" / "images").iterdir())) == 1  # earlier demo images were replaced


def test_cli_demo_data(tmp_path, capsys):
    assert main(["demo-data", "denoise", str(tmp_path / "d"), "--n", "1", "--size", "32", "--seed", "4"]) == 0
    assert (tmp_path / "d" / "images" / "denoise_000.tif").exists()
    assert main(["demo-data", "denoise", str(tmp_path / "d"), "--n", "1", "--size", "32"]) == 2
    assert "not empty" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo-data", "--help"])
    help_text = capsys.readouterr().out
    assert all(kind in help_text for kind in DEMO_KINDS)


def test_demo_output_reads_cleanly_with_the_data_layer(tmp_path):
    from builder.data.ctc import read_ctc_sequence
    from builder.data.doctor import check_folder
    from builder.data.readers import read_image

    for kind, (n, size) in SMALL.items():
        out = make_demo(kind, tmp_path / kind, n_images=n, size=size, seed=0)
        bad = [p.format() for p in check_folder(out) if p.severity == "error"]
        assert bad == [], (kind, bad)
        first = sorted(out.rglob("*.tif"))[0]
        assert read_image(first).pixel_size == pytest.approx(DEMO_KINDS[kind].pixel_size_um, rel=1e-3)
    sequence = read_ctc_sequence(tmp_path / "timelapse")
    lines = (tmp_path / "timelapse/01_GT/TRA/man_track.txt").read_text().splitlines()
    assert len(sequence.tracks) == len(lines)

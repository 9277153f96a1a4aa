"""Zeiss CZI (and ND2 / LIF) through the optional extra 'cellwright[formats]': pixels, pixel size, channel names.

The CZI file is written by pylibCZIrw, the library bioio-czi reads with. Nikon ND2 and Leica LIF have no
writer in their packages and no sample files ship with them, so only their registration is tested here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from builder.data.bioio_reader import PLUGINS, extra_status, readable_suffixes


def _write_czi(path: Path) -> np.ndarray:
    from pylibCZIrw import czi as pyczi

    rng = np.random.default_rng(0)
    planes = rng.integers(100, 4000, size=(2, 24, 40), dtype=np.uint16)
    with pyczi.create_czi(str(path), exist_ok=True) as writer:
        for c, plane in enumerate(planes):
            writer.write(plane[..., None], plane={"C": c})
        writer.write_metadata(channel_names={0: "DAPI", 1: "GFP"}, scale_x=0.65e-6, scale_y=0.65e-6)  # metres
    return planes


def test_czi_is_read_with_pixel_size_and_channel_names(tmp_path):
    pytest.importorskip("bioio_czi", reason="the optional extra cellwright[formats] is not installed")
    from builder.data.readers import is_image_file, read_image

    planes = _write_czi(tmp_path / "well.czi")
    image = read_image(tmp_path / "well.czi")
    assert image.axes == "YXC" and image.array.shape == (24, 40, 2)
    assert np.array_equal(image.array[..., 1], planes[1])
    assert image.pixel_size == pytest.approx(0.65) and image.channel_names == ["DAPI", "GFP"]
    assert is_image_file(tmp_path / "well.czi") and ".czi" in readable_suffixes()
    assert read_image(tmp_path / "well.czi", channels=["GFP"]).array.shape == (24, 40, 1)


def test_check_reports_the_pixel_size_of_czi_images(tmp_path):
    pytest.importorskip("bioio_czi", reason="the optional extra cellwright[formats] is not installed")
    import tifffile

    from builder.data.doctor import check_dataset
    from tests.builder.data.data_helpers import make_recipe

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in range(4):
        _write_czi(tmp_path / "images" / f"w{i}.czi")
        tifffile.imwrite(tmp_path / "masks" / f"w{i}.tif", np.zeros((24, 40), np.uint8))
    problems = check_dataset(make_recipe(data={"masks": "masks"}, preprocess={"patch": {"size": 16}}), tmp_path)
    text = "\n".join(p.format() for p in problems)
    assert "Zeiss CZI" not in text or "cannot read" not in text  # read, not skipped
    assert "0.65 µm" in text, text


def test_the_extra_covers_czi_nd2_and_lif_and_says_so():
    assert set(PLUGINS) == {".czi", ".nd2", ".lif"}
    status = extra_status()
    assert "cellwright[formats]" in status
    if readable_suffixes():
        assert "is installed" in status and all(PLUGINS[s][1] in status for s in readable_suffixes())
    else:
        assert "not installed" in status and "pip install" in status

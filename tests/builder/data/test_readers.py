"""Readers: TIFF/OME-TIFF/ImageJ, PNG, JPEG, .npy and OME-Zarr into Y,X,C with pixel size and channel names."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from builder.data.readers import read_image, select_channels
from builder.errors import DataError


def _stack(dtype, n_c=2, shape=(20, 24)):
    rng = np.random.default_rng(0)
    hi = 1.0 if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).max
    return (rng.random((n_c, *shape)) * hi).astype(dtype)


@pytest.mark.parametrize("compression", ["zlib", "lzw"])
def test_compressed_ome_tiff_keeps_pixel_size_and_channel_names(tmp_path, compression):
    data = _stack(np.uint16)
    path = tmp_path / "cells.ome.tif"
    tifffile.imwrite(path, data, ome=True, compression=compression, metadata={
        "axes": "CYX", "PhysicalSizeX": 0.325, "PhysicalSizeXUnit": "µm", "Channel": {"Name": ["DAPI", "GFP"]}})
    image = read_image(path)
    assert image.axes == "YXC" and image.array.shape == (20, 24, 2)
    assert image.pixel_size == pytest.approx(0.325)
    assert image.channel_names == ["DAPI", "GFP"]
    np.testing.assert_array_equal(image.array[..., 1], data[1])


def test_ome_pixel_size_in_nanometres_is_converted(tmp_path):
    path = tmp_path / "nm.ome.tif"
    tifffile.imwrite(path, _stack(np.uint8, 1)[0], ome=True,
                     metadata={"axes": "YX", "PhysicalSizeX": 130.0, "PhysicalSizeXUnit": "nm"})
    assert read_image(path).pixel_size == pytest.approx(0.13)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_imagej_tiff_resolution_and_dtypes(tmp_path, dtype):
    data = _stack(dtype)
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.5, 1 / 0.5), metadata={"axes": "CYX", "unit": "um"})
    image = read_image(path)
    assert image.array.dtype == dtype and image.array.shape == (20, 24, 2)
    assert image.pixel_size == pytest.approx(0.5)
    np.testing.assert_array_equal(image.array[..., 0], data[0])


def test_multipage_time_lapse_tiff(tmp_path):
    data = _stack(np.uint16, 1, (8, 8))[0]
    frames = np.stack([data + i for i in range(5)])
    tifffile.imwrite(tmp_path / "t.tif", frames, imagej=True, metadata={"axes": "TYX"})
    image = read_image(tmp_path / "t.tif")
    assert image.axes == "TYXC" and image.array.shape == (5, 8, 8, 1)
    assert image.array[3, 0, 0, 0] == data[0, 0] + 3


def test_plain_rgb_tiff_without_metadata_and_3d_stack_error(tmp_path):
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 2] = 7
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    image = read_image(tmp_path / "rgb.tif")
    assert image.array.shape == (10, 12, 3) and image.array[0, 0, 2] == 7 and image.pixel_size is None
    tifffile.imwrite(tmp_path / "z.tif", np.zeros((4, 8, 8), np.uint8), imagej=True, metadata={"axes": "ZYX"})
    with pytest.raises(DataError, match="z-slices"):
        read_image(tmp_path / "z.tif")


def test_png_jpeg_and_npy(tmp_path):
    grey = (np.arange(20 * 30) % 255).astype(np.uint8).reshape(20, 30)
    Image.fromarray(grey).save(tmp_path / "g.png")
    Image.fromarray(np.dstack([grey] * 3)).save(tmp_path / "c.jpg", quality=95)
    np.save(tmp_path / "a.npy", np.stack([grey, grey + 1], axis=-1))
    png = read_image(tmp_path / "g.png")
    assert png.array.shape == (20, 30, 1)
    np.testing.assert_array_equal(png.array[..., 0], grey)
    jpg = read_image(tmp_path / "c.jpg")
    assert jpg.array.shape == (20, 30, 3) and jpg.channel_names == ["red", "green", "blue"]
    assert abs(int(jpg.array[5, 5, 0]) - int(grey[5, 5])) < 8
    npy = read_image(tmp_path / "a.npy")
    assert npy.array.shape == (20, 30, 2) and npy.array[0, 0, 1] == grey[0, 0] + 1


def test_ome_zarr_v05(tmp_path):
    zarr = pytest.importorskip("zarr")
    data = _stack(np.uint16)
    group = zarr.open_group(str(tmp_path / "img.ome.zarr"), mode="w")
    array = group.create_array("0", shape=data.shape, dtype=data.dtype, chunks=(1, 10, 12))
    array[...] = data
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [{
            "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", "unit": "micrometer"},
                     {"name": "x", "type": "space", "unit": "micrometer"}],
            "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 0.25, 0.25]}]}],
        }],
        "omero": {"channels": [{"label": "DAPI"}, {"label": "GFP"}]},
    }
    image = read_image(tmp_path / "img.ome.zarr", channels=["GFP"])
    assert image.array.shape == (20, 24, 1) and image.pixel_size == pytest.approx(0.25)
    assert image.channel_names == ["GFP"]
    np.testing.assert_array_equal(image.array[..., 0], data[1])


def test_channel_selection_reorder_and_errors(tmp_path):
    data = _stack(np.uint16, 3)
    tifffile.imwrite(tmp_path / "c.tif", data, imagej=True, metadata={"axes": "CYX"})
    image = read_image(tmp_path / "c.tif", channels=["GFP", "DAPI"], file_channels=["DAPI", "GFP", "RFP"])
    assert image.channel_names == ["GFP", "DAPI"]
    np.testing.assert_array_equal(image.array[..., 0], data[1])
    np.testing.assert_array_equal(select_channels(read_image(tmp_path / "c.tif"), ["2"]).array[..., 0], data[2])
    with pytest.raises(DataError, match="channel 'YFP' not found"):
        read_image(tmp_path / "c.tif", channels=["YFP"], file_channels=["DAPI", "GFP", "RFP"])
    with pytest.raises(DataError, match="names 2 channels but the file has 3"):
        read_image(tmp_path / "c.tif", file_channels=["a", "b"])


def test_truncated_and_missing_files_are_named(tmp_path):
    path = tmp_path / "broken.tif"
    tifffile.imwrite(path, _stack(np.uint16, 1, (64, 64)), compression="zlib")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match="broken.tif") as info:
        read_image(path)
    assert "could not be read" in info.value.what and "skip_unreadable" in info.value.fix
    with pytest.raises(DataError, match="not found"):
        read_image(tmp_path / "nothing.tif")


@pytest.mark.realdata
def test_real_images(realdata):
    REALDATA = realdata
    image = read_image(REALDATA / "dsb2018_one_image" / "img2d.tif")
    mask = read_image(REALDATA / "dsb2018_one_image" / "mask2d.tif")
    assert image.array.shape == (512, 512, 1) and image.array.dtype == np.uint16
    assert len(np.unique(mask.array)) - 1 == 125
    jpgs = sorted((REALDATA / "bccd" / "BCCD" / "JPEGImages").glob("*.jpg"))[:2]
    for path in jpgs:
        assert read_image(path).array.shape == (480, 640, 3)

"""The folder check measures the object diameter as ``object_diameter: auto`` does: objects cut by the image edge
are left out when enough others remain. Real TIFF files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from builder.data.folder_check import check_folder_for_task


def _discs(shape, discs):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = np.zeros(shape, np.uint16)
    for index, (cy, cx, r) in enumerate(discs, start=1):
        mask[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = index
    return mask


def _folder(root, mask, copies=2):
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for index in range(copies):
        tifffile.imwrite(root / "images" / f"a{index}.tif", (mask > 0).astype(np.uint16) * 800 + 100)
        tifffile.imwrite(root / "masks" / f"a{index}.tif", mask)
    return root


def _diameters(mask, ids):
    return [2 * np.sqrt(np.count_nonzero(mask == i) / np.pi) for i in ids]


WHOLE = [(20, 20, 8), (20, 60, 9), (60, 40, 10)]
CUT = [(0, 40, 9), (0, 90, 9), (60, 0, 10), (95, 20, 9), (95, 70, 9), (40, 99, 10)]


def test_the_median_diameter_leaves_out_objects_cut_by_the_edge(tmp_path):
    mask = _discs((96, 100), WHOLE + CUT)
    report = check_folder_for_task(_folder(tmp_path / "data", mask), "instance_segmentation")
    whole = _diameters(mask, range(1, len(WHOLE) + 1))
    every = _diameters(mask, range(1, len(WHOLE + CUT) + 1))
    assert np.median(every) < np.median(whole) - 2  # the halves would pull it down
    assert report.median_diameter == pytest.approx(np.median(whole * 2))  # 2 copies: 6 whole objects
    assert "(objects cut by the image edge left out)" in "\n".join(report.lines)


def test_too_few_whole_objects_measures_every_object(tmp_path):
    mask = _discs((96, 100), WHOLE[:1] + CUT)
    report = check_folder_for_task(_folder(tmp_path / "data", mask), "instance_segmentation")
    every = _diameters(mask, range(1, len(CUT) + 2))
    assert report.median_diameter == pytest.approx(np.median(every * 2))
    assert "left out" not in "\n".join(report.lines)
